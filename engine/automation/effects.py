"""Carrying out one rule effect inside the conversation's transaction.

Changes to the customer record (owner, stage, tags, tasks, notes, fields) happen
here and now; anything that touches the outside world (a WhatsApp send, an
integration call, a payment request) only becomes an outbox row. Each change
that other rules may react to comes back as a follow-on domain event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.automation.routing import route
from engine.automation.snapshot import conversation_snapshot
from engine.core.config import WorkspaceConfig
from engine.core.rules import effects as fx
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.rules.graph import RuleGraph
from engine.models import (
    AuditLog,
    BusinessObject,
    Conversation,
    ConversationTag,
    Note,
    Notification,
    OutboxRow,
    ScheduledAction,
    StageHistory,
    Task,
    Team,
    Teammate,
    TeamMembership,
)
from engine.whatsapp.outbound import OutsideWindow, queue_template, queue_text


@dataclass
class EffectContext:
    session: Session
    graph: RuleGraph
    config: WorkspaceConfig
    config_version_id: int | None
    conversation: Conversation
    trigger: DomainEvent
    now: datetime


def apply_effect(ctx: EffectContext, effect: fx.Effect, position: int) -> list[DomainEvent]:
    handler = _HANDLERS.get(type(effect))
    if handler is None:
        raise TypeError(f"no handler for effect {type(effect).__name__}")
    return handler(ctx, effect, position)


def _follow(
    ctx: EffectContext, kind: TriggerKind, key: str | None, rule: str, **data: Any
) -> DomainEvent:
    return DomainEvent(
        kind=kind.value,
        id=f"{ctx.trigger.id}>{rule}>{kind.value}:{key}",
        occurred_at=ctx.now,
        key=key,
        data=data,
        caused_by=rule,
    )


def _audit(ctx: EffectContext, rule: str, action: str, **detail: Any) -> None:
    ctx.session.add(
        AuditLog(
            actor_kind="rule",
            actor_name=rule,
            action=action,
            subject_kind="conversation",
            subject_id=ctx.conversation.id,
            detail=detail,
            config_version_id=ctx.config_version_id,
            at=ctx.now,
        )
    )


def _teammate(ctx: EffectContext, handle: str | None) -> Teammate | None:
    if not handle:
        return None
    return ctx.session.scalars(select(Teammate).where(Teammate.handle == handle)).first()


def _recipient_id(ctx: EffectContext, recipient: fx.Recipient | None) -> int | None:
    if recipient is None:
        return None
    if recipient.kind == "owner":
        return ctx.conversation.owner_id
    if recipient.kind == "teammate":
        person = _teammate(ctx, recipient.name)
        return person.id if person else None
    return None  # a team: the task waits in the team's list, unassigned


def _assign(ctx: EffectContext, effect: fx.Assign, _: int) -> list[DomainEvent]:
    conversation = ctx.conversation
    if effect.team:
        team = ctx.session.scalars(select(Team).where(Team.handle == effect.team)).first()
        conversation.team_id = team.id if team else conversation.team_id
    if effect.teammate:
        person = _teammate(ctx, effect.teammate)
        if person is None or not person.active:
            _audit(ctx, effect.rule, "assign_skipped", teammate=effect.teammate)
            return []
        if conversation.owner_id == person.id:
            return []
        conversation.owner_id = person.id
    _audit(ctx, effect.rule, "assign", teammate=effect.teammate, team=effect.team)
    ctx.session.flush()
    return [_follow(ctx, TriggerKind.ASSIGNED, None, effect.rule)]


def _route(ctx: EffectContext, effect: fx.Route, _: int) -> list[DomainEvent]:
    snapshot = conversation_snapshot(ctx.session, ctx.conversation, ctx.config)
    decision = route(ctx.session, ctx.graph, ctx.conversation, ctx.trigger, snapshot, ctx.now)
    if decision is None:
        return []
    ctx.conversation.team_id = decision.team_id
    ctx.conversation.owner_id = decision.owner_id
    _audit(ctx, effect.rule, "route", routing_rule=decision.rule)
    ctx.session.flush()
    return [_follow(ctx, TriggerKind.ASSIGNED, None, effect.rule)]


def _move_stage(ctx: EffectContext, effect: fx.MoveStage, _: int) -> list[DomainEvent]:
    pipeline = ctx.config.pipeline(effect.pipeline)
    if pipeline is None:
        return []
    subject_kind, subject = _stage_subject(ctx, pipeline.subject)
    if subject is None:
        _audit(ctx, effect.rule, "move_skipped", reason=f"no linked {pipeline.subject}")
        return []
    current = subject.stage if subject.pipeline == pipeline.name else None
    if current == effect.stage:
        return []
    if current is not None and not pipeline.allows(current, effect.stage):
        _audit(ctx, effect.rule, "move_refused", source=current, target=effect.stage)
        return []
    subject.pipeline, subject.stage = pipeline.name, effect.stage
    ctx.session.add(
        StageHistory(
            subject_kind=subject_kind,
            subject_id=subject.id,
            pipeline=pipeline.name,
            from_stage=current,
            to_stage=effect.stage,
            actor_kind="rule",
            rule_name=effect.rule,
            config_version_id=ctx.config_version_id,
            at=ctx.now,
        )
    )
    ctx.session.flush()
    events = []
    if current is not None:
        events.append(
            _follow(ctx, TriggerKind.STAGE_LEFT, current, effect.rule, pipeline=pipeline.name)
        )
    events.append(
        _follow(ctx, TriggerKind.STAGE_ENTERED, effect.stage, effect.rule, pipeline=pipeline.name)
    )
    return events


def _stage_subject(
    ctx: EffectContext, subject: str
) -> tuple[str, Conversation | BusinessObject | None]:
    if subject == "conversation":
        return "conversation", ctx.conversation
    linked = [o for o in ctx.conversation.business_objects if o.kind == subject]
    return "business_object", max(linked, key=lambda o: o.id) if linked else None


def _add_tag(ctx: EffectContext, effect: fx.AddTag, _: int) -> list[DomainEvent]:
    if effect.tag in ctx.conversation.tag_names:
        return []
    ctx.conversation.tags.append(ConversationTag(name=effect.tag))
    ctx.session.flush()
    return [_follow(ctx, TriggerKind.TAG_ADDED, effect.tag, effect.rule)]


def _remove_tag(ctx: EffectContext, effect: fx.RemoveTag, _: int) -> list[DomainEvent]:
    for tag in list(ctx.conversation.tags):
        if tag.name == effect.tag:
            ctx.conversation.tags.remove(tag)
    ctx.session.flush()
    return []


def _task(
    ctx: EffectContext, rule: str, title: str, assignee: int | None, due: datetime | None
) -> None:
    ctx.session.add(
        Task(
            title=title[:300],
            due_at=due,
            assignee_id=assignee,
            conversation_id=ctx.conversation.id,
            created_at=ctx.now,
        )
    )
    _audit(ctx, rule, "create_task", title=title[:300])


def _create_task(ctx: EffectContext, effect: fx.CreateTask, _: int) -> list[DomainEvent]:
    _task(ctx, effect.rule, effect.title, _recipient_id(ctx, effect.assignee), effect.due_at)
    return []


def _remind(ctx: EffectContext, effect: fx.Remind, _: int) -> list[DomainEvent]:
    _task(ctx, effect.rule, effect.text, _recipient_id(ctx, effect.recipient), effect.at)
    return []


def _note(ctx: EffectContext, rule: str, body: str) -> None:
    ctx.session.add(
        Note(
            conversation_id=ctx.conversation.id,
            body=body,
            author_kind="rule",
            author_rule=rule,
            created_at=ctx.now,
        )
    )


def _add_note(ctx: EffectContext, effect: fx.AddNote, _: int) -> list[DomainEvent]:
    _note(ctx, effect.rule, effect.text)
    return []


def _notify(ctx: EffectContext, effect: fx.Notify, _: int) -> list[DomainEvent]:
    recipient = effect.recipient
    who = recipient.name if recipient and recipient.name else "owner"
    _note(ctx, effect.rule, f"@{who}: {effect.text}")
    _audit(ctx, effect.rule, "notify", recipient=who, text=effect.text)
    _notify_people(ctx, effect.rule, recipient, effect.text)
    return []


def _notify_people(
    ctx: EffectContext, rule: str, recipient: fx.Recipient | None, text: str
) -> None:
    """An in-app notification for each person the recipient names (a team: its members)."""
    if recipient is not None and recipient.kind == "team":
        people = list(
            ctx.session.scalars(
                select(TeamMembership.teammate_id)
                .join(Team, Team.id == TeamMembership.team_id)
                .where(Team.handle == recipient.name)
            )
        )
    else:
        person = _recipient_id(ctx, recipient or fx.Recipient("owner", None))
        people = [person] if person is not None else []
    for teammate_id in dict.fromkeys(people):
        ctx.session.add(
            Notification(
                teammate_id=teammate_id,
                conversation_id=ctx.conversation.id,
                text=text,
                source=rule,
                created_at=ctx.now,
            )
        )


def _draft_reply(ctx: EffectContext, effect: fx.DraftReply, _: int) -> list[DomainEvent]:
    # A model or a rule only suggests; a teammate decides and sends (DESIGN rule 10).
    _note(ctx, effect.rule, f"Suggested reply, for a teammate to check and send:\n{effect.text}")
    return []


def _escalate(ctx: EffectContext, effect: fx.Escalate, _: int) -> list[DomainEvent]:
    ctx.conversation.priority = "urgent"
    who = _recipient_id(ctx, effect.recipient)
    name = effect.recipient.name if effect.recipient else None
    _task(ctx, effect.rule, f"Escalated by '{effect.rule}': please decide", who, ctx.now)
    _audit(ctx, effect.rule, "escalate", to=name)
    _notify_people(ctx, effect.rule, effect.recipient, f"Escalated to you by '{effect.rule}'")
    events = []
    if "escalated" not in ctx.conversation.tag_names:
        ctx.conversation.tags.append(ConversationTag(name="escalated"))
        events.append(_follow(ctx, TriggerKind.TAG_ADDED, "escalated", effect.rule))
    ctx.session.flush()
    return events


_CONVERSATION_FIELDS = {"status", "priority"}
_CONTACT_COLUMNS = {"name", "language"}


def _set_field(ctx: EffectContext, effect: fx.SetField, _: int) -> list[DomainEvent]:
    conversation = ctx.conversation
    if effect.owner == "conversation":
        if effect.field == "status":
            if conversation.status == effect.value:
                return []
            conversation.status = str(effect.value)
            if effect.value == "resolved":
                conversation.resolved_at = ctx.now
            ctx.session.flush()
            return [_follow(ctx, TriggerKind.STATUS_CHANGED, str(effect.value), effect.rule)]
        if effect.field == "priority":
            conversation.priority = str(effect.value)
        elif effect.field == "language":
            conversation.contact.language = str(effect.value)
        else:
            conversation.fields = {**(conversation.fields or {}), effect.field: effect.value}
    elif effect.owner == "contact":
        contact = conversation.contact
        if effect.field in _CONTACT_COLUMNS:
            setattr(contact, effect.field, None if effect.value is None else str(effect.value))
        else:
            contact.fields = {**(contact.fields or {}), effect.field: effect.value}
    else:
        _kind, subject = _stage_subject(ctx, effect.owner)
        if isinstance(subject, BusinessObject):
            if effect.field == "status":
                subject.status = str(effect.value)
            elif effect.field == "amount":
                subject.amount = _decimal(effect.value)
            else:
                subject.fields = {**(subject.fields or {}), effect.field: effect.value}
    _audit(
        ctx,
        effect.rule,
        "set_field",
        owner=effect.owner,
        field=effect.field,
        value=str(effect.value),
    )
    ctx.session.flush()
    return []


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _send_template(ctx: EffectContext, effect: fx.SendTemplate, _: int) -> list[DomainEvent]:
    versions = [t for t in ctx.config.templates if t.name == effect.template]
    template = next((t for t in versions if t.language == effect.language), None) or (
        versions[0] if versions else None
    )
    preview = None
    if template is not None:
        preview = _filled(template.body, effect.variables)
        if template.header:
            preview = f"{_filled(template.header, effect.header_variables)}\n{preview}"
    queue_template(
        ctx.session,
        conversation_id=ctx.conversation.id,
        template_name=effect.template,
        language=effect.language or (template.language if template else "en"),
        parameters=list(effect.variables),
        header_parameters=list(effect.header_variables),
        author_teammate_id=None,
        author_rule=effect.rule,
        now=ctx.now,
        preview=preview,
    )
    return []


def _filled(text: str, values: tuple[str, ...]) -> str:
    for position, value in enumerate(values, start=1):
        text = text.replace(f"{{{{{position}}}}}", value)
    return text


def _send_text(ctx: EffectContext, effect: fx.SendText, _: int) -> list[DomainEvent]:
    try:
        queue_text(
            ctx.session,
            conversation_id=ctx.conversation.id,
            body=effect.text,
            author_teammate_id=None,
            author_rule=effect.rule,
            now=ctx.now,
        )
    except OutsideWindow:
        # Never a failed send: the window closed, so a person picks a template.
        _task(
            ctx,
            effect.rule,
            f"Send with a template (24-hour window closed): {effect.text}",
            ctx.conversation.owner_id,
            ctx.now,
        )
    return []


def _outbox(
    ctx: EffectContext, rule: str, kind: str, position: int, payload: dict[str, Any]
) -> None:
    ctx.session.add(
        OutboxRow(
            kind=kind,
            payload={**payload, "conversation_id": ctx.conversation.id, "rule": rule},
            idempotency_key=f"rule:{rule}:{ctx.trigger.id}:{position}"[:255],
            conversation_id=ctx.conversation.id,
            next_attempt_at=ctx.now,
        )
    )


def _call_integration(
    ctx: EffectContext, effect: fx.CallIntegration, position: int
) -> list[DomainEvent]:
    _outbox(
        ctx,
        effect.rule,
        "integration.call",
        position,
        {"integration": effect.integration, "operation": effect.operation},
    )
    return []


def _request_payment(
    ctx: EffectContext, effect: fx.RequestPayment, position: int
) -> list[DomainEvent]:
    # A request is not a payment (DESIGN rule 8): only the provider's callback counts.
    _outbox(
        ctx,
        effect.rule,
        "payment.request",
        position,
        {"provider": effect.provider, "amount": effect.amount},
    )
    return []


def _schedule(ctx: EffectContext, effect: fx.ScheduleDelayed, _: int) -> list[DomainEvent]:
    if effect.due_at is None:
        return []
    ctx.session.add(
        ScheduledAction(
            conversation_id=ctx.conversation.id,
            rule_name=effect.rule,
            block=effect.block,
            trigger_event_id=effect.event_id[:255],
            guard_text=effect.guard,
            stage_at_schedule=effect.stage,
            status_at_schedule=effect.status,
            scheduled_at=effect.scheduled_at or ctx.now,
            due_at=effect.due_at,
            config_version_id=ctx.config_version_id,
        )
    )
    return []


_HANDLERS: dict[type, Any] = {
    fx.Assign: _assign,
    fx.Route: _route,
    fx.MoveStage: _move_stage,
    fx.AddTag: _add_tag,
    fx.RemoveTag: _remove_tag,
    fx.CreateTask: _create_task,
    fx.Remind: _remind,
    fx.AddNote: _add_note,
    fx.Notify: _notify,
    fx.DraftReply: _draft_reply,
    fx.Escalate: _escalate,
    fx.SetField: _set_field,
    fx.SendTemplate: _send_template,
    fx.SendText: _send_text,
    fx.CallIntegration: _call_integration,
    fx.RequestPayment: _request_payment,
    fx.ScheduleDelayed: _schedule,
}
