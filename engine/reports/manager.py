"""The manager's view: where work is stuck, per team and per teammate, without reading chats.

Everything here is a read inside one workspace session; each list links back to
conversations by id. "Today" is the workspace's own day, in its timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.models import (
    AuditLog,
    BusinessObject,
    ConfigVersion,
    Contact,
    Conversation,
    Escalation,
    SlaClock,
    Task,
    Team,
    Teammate,
    Workspace,
)
from engine.models.states import ConversationStatus

LIST_LIMIT = 20


@dataclass(frozen=True)
class Item:
    conversation_id: int
    customer: str
    owner: str | None
    team: str | None
    stage: str | None
    since: datetime | None  # what the list is about: waiting since, due at, breached at
    detail: str = ""
    paused_since: datetime | None = None  # the list's SLA clock is paused (sla.yaml pause_when)


@dataclass(frozen=True)
class WaitingDecision:
    """An escalation still open: who must decide, why, and since when."""

    escalation_id: int
    conversation_id: int
    customer: str
    decider: str
    reason: str
    asked_by: str | None
    since: datetime


@dataclass(frozen=True)
class StageFigure:
    pipeline: str
    stage: str
    conversations: int
    objects: int
    value: Decimal


@dataclass(frozen=True)
class PersonLoad:
    name: str
    open: int
    waiting_on_us: int
    breaches_today: int


@dataclass
class ManagerView:
    now: datetime
    unowned: list[Item] = field(default_factory=list)
    first_response_late: list[Item] = field(default_factory=list)
    follow_ups_today: list[Item] = field(default_factory=list)
    waiting_on_us: list[Item] = field(default_factory=list)
    waiting_on_customer: list[Item] = field(default_factory=list)
    escalations: list[WaitingDecision] = field(default_factory=list)  # longest wait first
    breaches_today: list[Item] = field(default_factory=list)
    pipeline: list[StageFigure] = field(default_factory=list)
    teammates: list[PersonLoad] = field(default_factory=list)
    teams: list[PersonLoad] = field(default_factory=list)
    config_refused: str | None = None  # the latest refusal since the version in force
    rules_stopped: list[Item] = field(default_factory=list)  # loop brakes applied today


def manager_view(
    session: Session, now: datetime, team_id: int | None = None, owner_id: int | None = None
) -> ManagerView:
    workspace = session.scalars(select(Workspace)).one()
    start_of_day, end_of_day = _today(workspace.timezone, now)
    view = ManagerView(now=now)

    base = (
        select(Conversation, Contact)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.status != ConversationStatus.RESOLVED)
    )
    if team_id is not None:
        base = base.where(Conversation.team_id == team_id)
    if owner_id is not None:
        base = base.where(Conversation.owner_id == owner_id)
    names = _names(session)

    def items(statement: object, since: str, detail: str = "") -> list[Item]:
        rows = session.execute(statement.limit(LIST_LIMIT))  # type: ignore[attr-defined]
        return [
            names.item(
                conversation, contact, getattr(conversation, since) if since else None, detail
            )
            for conversation, contact in rows
        ]

    view.unowned = items(
        base.where(Conversation.owner_id.is_(None)).order_by(Conversation.opened_at),
        "opened_at",
    )
    view.waiting_on_us = items(
        base.where(Conversation.waiting_on == "us").order_by(Conversation.last_customer_message_at),
        "last_customer_message_at",
    )
    view.waiting_on_customer = items(
        base.where(Conversation.waiting_on == "customer").order_by(
            Conversation.last_customer_message_at
        ),
        "last_customer_message_at",
    )
    view.first_response_late = items(
        base.where(
            Conversation.first_response_due_at.is_not(None),
            Conversation.first_response_due_at <= now + timedelta(minutes=15),
        ).order_by(Conversation.first_response_due_at),
        "first_response_due_at",
        "first response due",
    )
    view.first_response_late = _mark_paused(
        session, view.first_response_late, "first_response", "first response paused", now
    )
    view.waiting_on_customer = _mark_paused(
        session, view.waiting_on_customer, "resolution", "resolution clock paused", now
    )
    view.escalations = _waiting_decisions(session, names, team_id, owner_id)

    tasks = session.execute(
        select(Task, Conversation, Contact)
        .join(Conversation, Conversation.id == Task.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Task.done_at.is_(None), Task.due_at < end_of_day)
        .where(*([Conversation.team_id == team_id] if team_id is not None else []))
        .where(*([Task.assignee_id == owner_id] if owner_id is not None else []))
        .order_by(Task.due_at)
        .limit(LIST_LIMIT)
    )
    view.follow_ups_today = [
        names.item(
            conversation,
            contact,
            task.due_at,
            task.title,
            task_assignee=True,
            assignee_id=task.assignee_id,
        )
        for task, conversation, contact in tasks
    ]

    breaches = session.execute(
        select(SlaClock, Conversation, Contact)
        .join(Conversation, Conversation.id == SlaClock.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(SlaClock.breached_at >= start_of_day, SlaClock.breached_at < end_of_day)
        .where(*([Conversation.team_id == team_id] if team_id is not None else []))
        .where(*([Conversation.owner_id == owner_id] if owner_id is not None else []))
        .order_by(SlaClock.breached_at.desc())
        .limit(LIST_LIMIT)
    )
    view.breaches_today = [
        names.item(
            conversation,
            contact,
            clock.breached_at,
            f"{clock.kind.replace('_', ' ')} ({clock.policy})",
        )
        for clock, conversation, contact in breaches
    ]

    view.pipeline = _pipeline(session)
    view.teammates = _loads(
        session, Conversation.owner_id, names.teammates, start_of_day, end_of_day
    )
    view.teams = _loads(session, Conversation.team_id, names.teams, start_of_day, end_of_day)
    view.config_refused = _config_refused(session)
    stopped = session.execute(
        select(AuditLog, Conversation, Contact)
        .join(Conversation, Conversation.id == AuditLog.subject_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(
            AuditLog.action == "rule_stopped",
            AuditLog.subject_kind == "conversation",
            AuditLog.at >= start_of_day,
        )
        .order_by(AuditLog.at.desc())
        .limit(LIST_LIMIT)
    )
    view.rules_stopped = [
        names.item(
            conversation,
            contact,
            entry.at,
            f"{entry.detail.get('rule')}: {entry.detail.get('why')}",
        )
        for entry, conversation, contact in stopped
    ]
    return view


@dataclass(frozen=True)
class _Names:
    teammates: dict[int | None, str]
    teams: dict[int | None, str]

    def item(
        self,
        conversation: Conversation,
        contact: Contact,
        since: datetime | None,
        detail: str = "",
        *,
        task_assignee: bool = False,
        assignee_id: int | None = None,
    ) -> Item:
        """A list row; for a task, the person shown is the task's assignee, not the owner."""
        return Item(
            conversation_id=conversation.id,
            customer=contact.name or contact.profile_name or f"Contact {contact.id}",
            owner=self.teammates.get(assignee_id if task_assignee else conversation.owner_id),
            team=self.teams.get(conversation.team_id),
            stage=conversation.stage,
            since=since,
            detail=detail,
        )


def _names(session: Session) -> _Names:
    return _Names(
        teammates={t.id: t.name for t in session.scalars(select(Teammate))},
        teams={t.id: t.name for t in session.scalars(select(Team))},
    )


def _waiting_decisions(
    session: Session, names: _Names, team_id: int | None, owner_id: int | None
) -> list[WaitingDecision]:
    """Open escalations, longest waiting first; the teammate filter is who must decide."""
    statement = (
        select(Escalation, Contact)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Escalation.decided_at.is_(None))
        .order_by(Escalation.asked_at, Escalation.id)
        .limit(LIST_LIMIT)
    )
    if team_id is not None:
        statement = statement.where(Conversation.team_id == team_id)
    if owner_id is not None:
        statement = statement.where(Escalation.decider_id == owner_id)
    return [
        WaitingDecision(
            escalation_id=escalation.id,
            conversation_id=escalation.conversation_id,
            customer=contact.name or contact.profile_name or f"Contact {contact.id}",
            decider=names.teammates.get(escalation.decider_id, "?"),
            reason=escalation.reason,
            asked_by=names.teammates.get(escalation.asked_by_id) or escalation.asked_by_rule,
            since=escalation.asked_at,
        )
        for escalation, contact in session.execute(statement).tuples()
    ]


def _today(timezone: str, now: datetime) -> tuple[datetime, datetime]:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(0), zone)
    return start, start + timedelta(days=1)


def _pipeline(session: Session) -> list[StageFigure]:
    """Open conversations, and business objects with their value, per pipeline stage."""
    conversations = {
        (pipeline or "", stage): int(count)
        for pipeline, stage, count in session.execute(
            select(Conversation.pipeline, Conversation.stage, func.count())
            .where(
                Conversation.status != ConversationStatus.RESOLVED, Conversation.stage.is_not(None)
            )
            .group_by(Conversation.pipeline, Conversation.stage)
        )
    }
    objects = {
        (pipeline or "", stage): (int(count), Decimal(value))
        for pipeline, stage, count, value in session.execute(
            select(
                BusinessObject.pipeline,
                BusinessObject.stage,
                func.count(),
                func.coalesce(func.sum(BusinessObject.amount), 0),
            )
            .where(BusinessObject.stage.is_not(None))
            .group_by(BusinessObject.pipeline, BusinessObject.stage)
        )
    }
    return [
        StageFigure(
            pipeline,
            stage,
            conversations.get((pipeline, stage), 0),
            *objects.get((pipeline, stage), (0, Decimal(0))),
        )
        for pipeline, stage in sorted(conversations.keys() | objects.keys())
    ]


def _loads(
    session: Session,
    column: InstrumentedAttribute[int | None],
    names: dict[int | None, str],
    start_of_day: datetime,
    end_of_day: datetime,
) -> list[PersonLoad]:
    def counts(*where: ColumnElement[bool], breaches: bool = False) -> dict[int | None, int]:
        statement = select(column, func.count()).where(*where).group_by(column)
        if breaches:
            statement = statement.join(SlaClock, SlaClock.conversation_id == Conversation.id)
        return {key: int(count) for key, count in session.execute(statement)}

    is_open = Conversation.status != ConversationStatus.RESOLVED
    open_counts = counts(is_open)
    waiting = counts(is_open, Conversation.waiting_on == "us")
    breached = counts(
        SlaClock.breached_at >= start_of_day, SlaClock.breached_at < end_of_day, breaches=True
    )
    return [
        PersonLoad(name, open_counts.get(key, 0), waiting.get(key, 0), breached.get(key, 0))
        for key, name in sorted(names.items(), key=lambda item: item[1])
    ]


def _config_refused(session: Session) -> str | None:
    active_since = session.scalar(
        select(ConfigVersion.compiled_at).where(ConfigVersion.active.is_(True))
    )
    refusal = session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "config_refused")
        .where(*([AuditLog.at > active_since] if active_since is not None else []))
        .order_by(AuditLog.at.desc())
        .limit(1)
    ).first()
    if refusal is None:
        return None
    first = (refusal.detail.get("diagnostics") or ["no details"])[0]
    return f"{refusal.detail.get('errors', '?')} error(s) at {refusal.at:%Y-%m-%d %H:%M}: {first}"


def _mark_paused(
    session: Session, items: list[Item], kind: str, detail: str, now: datetime
) -> list[Item]:
    """The items whose running `kind` clock is paused now, shown as paused since when."""
    ids = [item.conversation_id for item in items]
    if not ids:
        return items
    paused: dict[int, datetime | None] = {
        conversation_id: paused_at
        for conversation_id, paused_at in session.execute(
            select(SlaClock.conversation_id, SlaClock.paused_at).where(
                SlaClock.conversation_id.in_(ids),
                SlaClock.kind == kind,
                SlaClock.stopped_at.is_(None),
                SlaClock.paused_at.is_not(None),
                or_(SlaClock.paused_until.is_(None), SlaClock.paused_until > now),
            )
        )
    }
    return [
        replace(item, paused_since=paused[item.conversation_id], detail=detail)
        if item.conversation_id in paused
        else item
        for item in items
    ]
