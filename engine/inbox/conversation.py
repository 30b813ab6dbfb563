"""Everything the conversation page shows, read in one workspace session.

The timeline is the whole history in order: messages (with delivery state, and
for a failed one what the provider's code means), internal notes, stage moves,
tasks and the inbox actions recorded in the audit log (claims, assignments,
status changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, may
from engine.auth.principal import Principal
from engine.automation.traces import TracedEvent, recent_traces
from engine.core.config import CustomField, Pipeline, Template
from engine.inbox.attachments import failed_downloads, timeline_media
from engine.inbox.details import DetailField, details_of
from engine.inbox.escalations import EscalationLine
from engine.inbox.escalations import lines_of as escalation_lines
from engine.inbox.failures import meaning_of
from engine.inbox.firings import describe_firing
from engine.inbox.lookup import conversation_for
from engine.inbox.mentions import Piece, split_mentions
from engine.inbox.objects import objects_of, related_objects
from engine.inbox.payments import PaymentLine, payments_of
from engine.inbox.queues import display_name
from engine.inbox.replies import TemplateChoice, template_choices
from engine.inbox.stages import ObjectCard, StageChoice, object_cards, stage_choices
from engine.models import (
    AuditLog,
    Contact,
    Conversation,
    Identity,
    Message,
    MessageReaction,
    MessageStatusEvent,
    Note,
    RuleFiring,
    ScheduledAction,
    SentVia,
    SlaClock,
    StageHistory,
    SubjectKind,
    Task,
    Team,
    Teammate,
)
from engine.outbox.sends import window_closes_at


@dataclass(frozen=True)
class Entry:
    """One line of the history; `kind` says which fields mean something."""

    kind: str  # "message" | "note" | "stage" | "task" | "activity" | "rule"
    id: int
    at: datetime
    text: str | None = None
    author: str | None = None
    direction: str | None = None
    message_type: str | None = None
    delivery_state: str | None = None
    failure_code: str | None = None
    failure_meaning: str | None = None
    file_name: str | None = None
    # A stored file is served by /media/{media_file_id}; pending while being downloaded.
    media_file_id: int | None = None
    media_size: int | None = None
    media_image: bool = False
    media_pending: bool = False
    # A customer's file Kazi gave up fetching: why, in words ("expired" when WhatsApp no
    # longer has it); the page offers to fetch it again.
    media_unavailable: str | None = None
    done: bool = False
    pieces: tuple[Piece, ...] = ()  # a note's text with its @mentions marked
    # WhatsApp's changes to a message: reactions shown under it ("customer"/"business",
    # emoji), an edit mark, a deletion (the text is then not shown; it is kept for the
    # audit), and a message the business typed in its phone app.
    reactions: tuple[tuple[str, str], ...] = ()
    edited: bool = False
    deleted: bool = False
    from_phone_app: bool = False
    # Buttons or a list we sent: the choices the customer saw, and a list's button label.
    choices: tuple[str, ...] = ()
    list_button: str | None = None
    map_url: str | None = None  # a location, sent or received: where it is on a map

    @property
    def ticks(self) -> str:
        """WhatsApp-style ticks a glance can read."""
        return {
            "queued": "…",
            "sending": "…",
            "accepted": "✓",
            "sent": "✓",
            "delivered": "✓✓",
            "read": "✓✓",
            "failed": "!",
        }.get(self.delivery_state or "", "")

    @property
    def media_size_text(self) -> str:
        size = self.media_size or 0
        if size >= 1024 * 1024:
            return f"{size / (1024 * 1024):.1f} MB"
        return f"{max(1, round(size / 1024))} KB" if size else ""


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    contact: Contact
    contact_name: str
    addresses: list[str]
    owner_name: str | None
    team_name: str | None
    tags: list[str]
    timeline: list[Entry]
    latest_message_id: int | None
    window_closes_at: datetime | None
    window_open: bool
    templates: list[TemplateChoice]
    teammates: list[Teammate]
    teams: list[Team]
    open_tasks: list[Task]
    may_work: bool
    may_claim: bool
    may_assign: bool
    window_seconds_left: int
    stages: list[StageChoice]
    business_objects: list[ObjectCard]
    scheduled: list[ScheduledAction] = field(default_factory=list)  # pending delayed actions
    clocks: list[SlaClock] = field(default_factory=list)  # running SLA clocks
    clocks_paused: dict[int, datetime] = field(default_factory=dict)  # clock id -> paused since
    traces: list[TracedEvent] = field(default_factory=list)  # why the rules did what they did
    details: list[DetailField] = field(default_factory=list)  # the workspace's own fields
    payments: list[PaymentLine] = field(default_factory=list)  # M-Pesa requests, newest first
    escalations: list[EscalationLine] = field(default_factory=list)  # newest first


def _names(session: Session) -> dict[int, str]:
    return {t.id: t.name for t in session.scalars(select(Teammate))}


def _handles(session: Session) -> list[str]:
    return list(session.scalars(select(Teammate.handle)))


def _names_by_handle(session: Session) -> dict[str, str]:
    return {t.handle: t.name for t in session.scalars(select(Teammate))}


def _map_url(place: dict[str, Any]) -> str | None:
    latitude, longitude = place.get("latitude"), place.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}"


def _message_entry(
    message: Message,
    names: dict[int, str],
    contact_name: str,
    reactions: tuple[tuple[str, str], ...] = (),
    download_failure: str | None = None,
) -> Entry:
    from_phone_app = message.sent_via == SentVia.BUSINESS_APP
    if message.author_teammate_id is not None:
        author = names.get(message.author_teammate_id, "A teammate")
    elif from_phone_app:
        author = "Sent from the phone app"
    elif message.author_rule:
        author = f"Rule {message.author_rule}"
    else:
        author = contact_name if message.direction == "inbound" else "Kazi"
    meaning = None
    if message.delivery_state == "failed":
        meaning = meaning_of(message.failure_code, message.failure_detail)
    deleted = message.deleted_at is not None
    media = {} if deleted else (message.media or {})
    text = None if deleted else message.body
    found = media.get("rich")
    rich: dict[str, Any] = found if isinstance(found, dict) else {}
    choices: tuple[str, ...] = ()
    if rich.get("type") == "buttons":
        text, choices = rich.get("body"), tuple(str(title) for _, title in rich["buttons"])
    elif rich.get("type") == "list":
        text = rich.get("body")
        choices = tuple(str(row[1]) for section in rich["sections"] for row in section["rows"])
    return Entry(
        kind="message",
        id=message.id,
        at=message.provider_timestamp or message.created_at,
        text=text,
        choices=choices,
        list_button=str(rich["button"]) if rich.get("type") == "list" else None,
        map_url=_map_url(rich or media),
        author=author,
        direction=message.direction,
        message_type=message.type,
        delivery_state=message.delivery_state,
        failure_code=message.failure_code,
        failure_meaning=meaning,
        file_name=str(media.get("filename")) if media.get("filename") else None,
        reactions=reactions,
        edited=message.edited_at is not None,
        deleted=deleted,
        from_phone_app=from_phone_app,
        **timeline_media(media, download_failure),
    )


def _reactions(session: Session, conversation_id: int) -> dict[int, tuple[tuple[str, str], ...]]:
    """The current reactions on the conversation's messages (removed ones are not shown)."""
    found: dict[int, list[tuple[str, str]]] = {}
    for row in session.scalars(
        select(MessageReaction)
        .join(Message, Message.id == MessageReaction.message_id)
        .where(Message.conversation_id == conversation_id, MessageReaction.emoji.is_not(None))
        .order_by(MessageReaction.id)
    ):
        found.setdefault(row.message_id, []).append((row.reactor, row.emoji or ""))
    return {message_id: tuple(marks) for message_id, marks in found.items()}


def _activity_text(entry: AuditLog, names: dict[int, str], by_handle: dict[str, str]) -> str:
    actor = names.get(entry.actor_teammate_id or 0) or entry.actor_name or "Kazi"
    detail = entry.detail or {}
    match entry.action:
        case "claim":
            return f"{actor} claimed the conversation"
        case "assign":
            handle = detail.get("teammate")
            target = by_handle.get(handle, handle) if isinstance(handle, str) else "nobody"
            return f"{actor} assigned the conversation to {target}"
        case "status" if detail.get("to") == "snoozed":
            return f"{actor} snoozed the conversation"
        case "status":
            return f"{actor} set the status to {str(detail.get('to', '')).replace('_', ' ')}"
        case "whatsapp_system":  # a number or identity change WhatsApp reported
            return f"WhatsApp: {detail.get('text', '')}"
    return f"{actor}: {entry.action}"


def _window_closes(session: Session, conversation: Conversation) -> datetime | None:
    """When free text stops: 24 h after the customer's last message, or at once when
    WhatsApp has since refused a send with 131047 (re-engagement needed; the reference
    §8.1 says to treat it as authoritative, even inside the 24 hours)."""
    closes = window_closes_at(conversation)
    last = conversation.last_customer_message_at
    if closes is None or last is None:
        return closes
    refused = session.scalar(
        select(func.max(MessageStatusEvent.provider_timestamp))
        .join(Message, Message.id == MessageStatusEvent.message_id)
        .where(
            Message.conversation_id == conversation.id,
            MessageStatusEvent.status == "failed",
            MessageStatusEvent.error_code == "131047",
            MessageStatusEvent.provider_timestamp >= last,
        )
    )
    return min(closes, refused) if refused is not None else closes


def timeline(session: Session, conversation: Conversation, contact_name: str) -> list[Entry]:
    names = _names(session)
    handles = _handles(session)
    by_handle = _names_by_handle(session)
    reactions = _reactions(session, conversation.id)
    gave_up = failed_downloads(session, conversation.id)
    entries = [
        _message_entry(
            message, names, contact_name, reactions.get(message.id, ()), gave_up.get(message.id)
        )
        for message in session.scalars(
            select(Message).where(Message.conversation_id == conversation.id)
        )
    ]
    entries += [
        Entry(
            kind="note",
            id=note.id,
            at=note.created_at,
            text=note.body,
            author=names.get(note.author_teammate_id or 0) or note.author_rule or "Kazi",
            pieces=split_mentions(note.body, handles),
        )
        for note in session.scalars(select(Note).where(Note.conversation_id == conversation.id))
    ]
    entries += [
        Entry(
            kind="stage",
            id=move.id,
            at=move.at,
            text=f"{move.from_stage or 'start'} → {move.to_stage}",
            author=names.get(move.actor_teammate_id or 0)
            or (f"Rule {move.rule_name}" if move.rule_name else "Kazi"),
        )
        for move in session.scalars(
            select(StageHistory).where(
                StageHistory.subject_kind == SubjectKind.CONVERSATION,
                StageHistory.subject_id == conversation.id,
            )
        )
    ]
    entries += [
        Entry(
            kind="task",
            id=task.id,
            at=task.created_at,
            text=task.title,
            author=names.get(task.assignee_id or 0),
            done=task.done_at is not None,
        )
        for task in session.scalars(select(Task).where(Task.conversation_id == conversation.id))
    ]
    entries += [
        Entry(
            kind="activity",
            id=entry.id,
            at=entry.at,
            text=_activity_text(entry, names, by_handle),
        )
        for entry in session.scalars(
            select(AuditLog).where(
                AuditLog.subject_kind == "conversation", AuditLog.subject_id == conversation.id
            )
        )
    ]
    entries += [
        Entry(
            kind="rule",
            id=firing.id,
            at=firing.fired_at,
            author=firing.rule_name,
            text=describe_firing(firing),
        )
        for firing in session.scalars(
            select(RuleFiring).where(RuleFiring.conversation_id == conversation.id)
        )
    ]
    order = {"message": 0, "note": 1, "stage": 2, "task": 3, "activity": 4, "rule": 5}
    return sorted(entries, key=lambda e: (e.at, order[e.kind], e.id))


def conversation_view(
    session: Session,
    principal: Principal,
    conversation_id: int,
    *,
    templates: tuple[Template, ...],
    now: datetime,
    pipelines: tuple[Pipeline, ...] = (),
    fields: tuple[CustomField, ...] = (),
) -> ConversationView:
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    contact = conversation.contact
    name = display_name(contact)
    addresses = list(
        session.scalars(
            select(Identity.address)
            .where(Identity.contact_id == contact.id, Identity.is_current.is_(True))
            .order_by(Identity.id)
        )
    )
    history = timeline(session, conversation, name)
    latest = session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    closes = _window_closes(session, conversation)
    teammates = list(
        session.scalars(select(Teammate).where(Teammate.active.is_(True)).order_by(Teammate.name))
    )
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    open_tasks = list(
        session.scalars(
            select(Task)
            .where(Task.conversation_id == conversation.id, Task.done_at.is_(None))
            .order_by(Task.due_at, Task.id)
        )
    )
    scheduled = list(
        session.scalars(
            select(ScheduledAction)
            .where(
                ScheduledAction.conversation_id == conversation.id,
                ScheduledAction.state == "pending",
            )
            .order_by(ScheduledAction.due_at)
        )
    )
    clocks = list(
        session.scalars(
            select(SlaClock)
            .where(SlaClock.conversation_id == conversation.id, SlaClock.stopped_at.is_(None))
            .order_by(SlaClock.due_at)
        )
    )
    objects = objects_of(session, principal, conversation.id)
    return ConversationView(
        scheduled=scheduled,
        clocks=clocks,
        clocks_paused={
            clock.id: since for clock in clocks if (since := clock.paused_since(now)) is not None
        },
        conversation=conversation,
        contact=contact,
        contact_name=name,
        addresses=addresses,
        owner_name=conversation.owner.name if conversation.owner else None,
        team_name=conversation.team.name if conversation.team else None,
        tags=conversation.tag_names,
        timeline=history,
        latest_message_id=latest,
        window_closes_at=closes,
        window_open=closes is not None and now < closes,
        templates=template_choices(templates, contact),
        teammates=teammates,
        teams=teams,
        open_tasks=open_tasks,
        may_work=may(principal, Action.WORK_CONVERSATION, conversation),
        may_claim=may(principal, Action.CLAIM, conversation)
        and conversation.owner_id != principal.teammate_id,
        may_assign=may(principal, Action.ASSIGN, conversation)
        or may(principal, Action.TRANSFER, conversation),
        stages=stage_choices(pipelines, conversation),
        business_objects=object_cards(
            pipelines, fields, objects, {o.id: related_objects(session, o.id) for o in objects}
        ),
        escalations=escalation_lines(session, principal, conversation.id),
        details=details_of(fields, "conversation", conversation.fields),
        payments=payments_of(session, conversation.id),
        window_seconds_left=max(0, int((closes - now).total_seconds())) if closes else 0,
        traces=recent_traces(session, conversation.id),
    )
