"""Writing exactly what `step` decided, in the caller's transaction. Nothing is decided here.

Columns follow the new state; every change in the outcome becomes its row (stage
history, tasks, notes, notifications, audit, delays, clocks); every intent becomes
an outbox row, so sends and calls leave only when this transaction commits
(DESIGN rule 6); firings and traces become the rule history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.automation.state import Directory, key_id, line_items_json
from engine.conversations.tallies import stage_moved
from engine.core.states import ActorKind, SubjectKind
from engine.core.step import (
    CONVERSATION,
    Actor,
    Audited,
    CallIntegration,
    ClockMoved,
    ClockReported,
    ClockStarted,
    ClockStopped,
    DelayFinished,
    DelayScheduled,
    Escalated,
    EscalationDecided,
    EventTrace,
    Firing,
    NoteAdded,
    Notified,
    ObjectCreated,
    Outcome,
    RequestPayment,
    SendRich,
    SendTemplate,
    SendText,
    StageMoved,
    State,
    TaskCreated,
)
from engine.models import (
    AuditLog,
    AuthorKind,
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    ConversationTag,
    DelayState,
    Escalation,
    Note,
    Notification,
    OutboxRow,
    RuleFiring,
    RuleTrace,
    ScheduledAction,
    SlaClock,
    StageHistory,
    Task,
)
from engine.outbox.sends import queue_rich, queue_template, queue_text

CALL_KIND = "integration.call"
PAYMENT_KIND = "payment.request"


@dataclass
class Persisted:
    """What the database named while writing: ids of new objects and queued messages."""

    objects: dict[str, int] = field(default_factory=dict)  # state key -> business object id
    messages: list[int] = field(default_factory=list)  # outbound messages queued, in order
    outbox: list[int] = field(default_factory=list)


def trigger_key(conversation_id: int, event_id: str) -> str:
    """`c<conversation>:<event>`; hashed when long, so the unique key always fits."""
    key = f"c{conversation_id}:{event_id}"
    if len(key) <= 255:
        return key
    return f"c{conversation_id}:sha256:{hashlib.sha256(event_id.encode()).hexdigest()}"


class _Writer:
    def __init__(
        self,
        session: Session,
        conversation: Conversation,
        directory: Directory,
        config_version_id: int | None,
        now: datetime,
    ) -> None:
        self.session = session
        self.conversation = conversation
        self.directory = directory
        self.config_version_id = config_version_id
        self.now = now
        self.done = Persisted()

    def object_id(self, key: str | None) -> int | None:
        if key is None or key == CONVERSATION:
            return None
        return self.done.objects.get(key) or key_id(key)

    def teammate(self, handle: str | None) -> int | None:
        return self.directory.teammates.get(handle) if handle else None

    # ----- the record's columns -------------------------------------------------------
    def columns(self, before: State, after: State) -> None:
        row = self.conversation
        state = after.conversation
        row.status = state.status
        row.waiting_on = state.waiting_on
        row.owner_id = self.teammate(state.owner)
        row.team_id = self.directory.teams.get(state.team) if state.team else None
        row.priority = state.priority
        row.pipeline, row.stage = state.pipeline, state.stage
        if dict(state.fields) != dict(row.fields or {}):
            row.fields = dict(state.fields)
        row.resolved_at = state.resolved_at
        row.snoozed_until = state.snoozed_until
        row.last_customer_message_at = state.last_inbound_at
        due = {clock.kind: clock.due_at for clock in after.clocks}
        row.first_response_due_at = due.get("first_response")
        row.next_response_due_at = due.get("next_response")
        row.resolution_due_at = due.get("resolution")
        self.tags(before.conversation.tags, state.tags)
        if after.contact != before.contact and after.contact.id is not None:
            contact = self.session.get(Contact, after.contact.id)
            if contact is not None:
                contact.name = after.contact.name
                contact.language = after.contact.language
                contact.fields = dict(after.contact.fields)

    def tags(self, before: tuple[str, ...], after: tuple[str, ...]) -> None:
        added = [t for t in after if t not in before]
        removed = [t for t in before if t not in after]
        for name in added:
            self.session.add(ConversationTag(conversation_id=self.conversation.id, name=name))
        if removed:
            for tag in list(self.conversation.tags):
                if tag.name in removed:
                    self.session.delete(tag)
        if added or removed:
            self.session.flush()
            self.session.expire(self.conversation, ["tags"])

    def objects(self, before: State, after: State, created: set[str]) -> None:
        seen = {item.key: item for item in before.objects}
        for item in after.objects:
            if item.key in created:
                row = BusinessObject(
                    kind=item.kind,
                    external_ref=item.reference,
                    status=item.status,
                    amount=item.amount,
                    currency=item.currency,
                    fields=dict(item.fields),
                    line_items=line_items_json(item.items),
                    contact_id=after.contact.id,
                    pipeline=item.pipeline,
                    stage=item.stage,
                )
                self.session.add(row)
                self.session.flush()
                self.session.add(
                    BusinessObjectLink(
                        business_object_id=row.id, conversation_id=self.conversation.id
                    )
                )
                self.done.objects[item.key] = row.id
                continue
            previous = seen.get(item.key)
            object_id = key_id(item.key)
            if previous is None or previous == item or object_id is None:
                continue
            self.session.execute(
                update(BusinessObject)
                .where(BusinessObject.id == object_id)
                .values(
                    external_ref=item.reference,
                    status=item.status,
                    amount=item.amount,
                    currency=item.currency,
                    fields=dict(item.fields),
                    line_items=line_items_json(item.items),
                    pipeline=item.pipeline,
                    stage=item.stage,
                    updated_at=self.now,
                )
                .execution_options(synchronize_session="fetch")
            )

    # ----- changes -------------------------------------------------------------------
    def change(self, change: Any) -> None:
        match change:
            case StageMoved():
                self.stage_moved(change)
            case TaskCreated():
                self.task(change)
            case NoteAdded():
                self.session.add(
                    Note(
                        conversation_id=self.conversation.id,
                        body=change.body,
                        author_kind=AuthorKind.RULE
                        if change.actor.is_rule
                        else AuthorKind.TEAMMATE,
                        author_teammate_id=change.actor.id if change.actor.is_person else None,
                        author_rule=change.actor.name if change.actor.is_rule else None,
                        created_at=self.now,
                    )
                )
            case Notified():
                for handle in dict.fromkeys(change.teammates):
                    teammate_id = self.teammate(handle)
                    if teammate_id is not None:
                        self.session.add(
                            Notification(
                                teammate_id=teammate_id,
                                conversation_id=self.conversation.id,
                                text=change.text,
                                source=change.source,
                                created_at=self.now,
                            )
                        )
            case Audited():
                self.audit(change)
            case Escalated():
                decider = self.teammate(change.decider)
                if decider is not None:
                    self.session.add(
                        Escalation(
                            conversation_id=self.conversation.id,
                            decider_id=decider,
                            reason=change.reason,
                            asked_by_id=change.actor.id if change.actor.is_person else None,
                            asked_by_rule=change.actor.name if change.actor.is_rule else None,
                            asked_at=self.now,
                        )
                    )
            case EscalationDecided():
                self.session.execute(
                    update(Escalation)
                    .where(
                        Escalation.id == change.escalation,
                        Escalation.conversation_id == self.conversation.id,
                        Escalation.decided_at.is_(None),
                    )
                    .values(
                        decision=change.decision,
                        note=change.note or None,
                        decided_by_id=change.actor.id if change.actor.is_person else None,
                        decided_at=self.now,
                    )
                    .execution_options(synchronize_session="fetch")
                )
            case DelayScheduled():
                delay = change.delay
                self.session.add(
                    ScheduledAction(
                        conversation_id=self.conversation.id,
                        business_object_id=self.object_id(delay.subject),
                        rule_name=delay.rule,
                        block=delay.block,
                        trigger_event_id=delay.event_id[:255],
                        guard_text=delay.guard,
                        stage_at_schedule=delay.stage,
                        status_at_schedule=delay.status,
                        scheduled_at=delay.scheduled_at,
                        due_at=delay.due_at,
                        config_version_id=self.config_version_id,
                    )
                )
            case DelayFinished():
                self.delay_finished(change)
            case ClockStarted():
                clock = change.clock
                self.session.add(
                    SlaClock(
                        conversation_id=self.conversation.id,
                        kind=clock.kind,
                        policy=clock.policy,
                        started_at=clock.started_at,
                        due_at=clock.due_at,
                        warn_at=clock.warn_at,
                        paused_seconds=clock.paused_seconds,
                        paused_at=clock.paused_at,
                        paused_until=clock.paused_until,
                    )
                )
            case ClockStopped():
                self.clock(change.key, stopped_at=self.now, met=change.met)
            case ClockMoved():
                self.clock(
                    change.key,
                    due_at=change.due_at,
                    warn_at=change.warn_at,
                    paused_seconds=change.paused_seconds,
                    paused_at=change.paused_at,
                    paused_until=change.paused_until,
                )
            case ClockReported():
                field_name = "breached_at" if change.kind == "breached" else "warned_at"
                self.clock(change.key, **{field_name: change.at, "enqueued_at": None})
            case ObjectCreated():
                pass  # written with the objects, before the changes that name it

    def stage_moved(self, change: StageMoved) -> None:
        is_conversation = change.subject == CONVERSATION
        subject_id = self.conversation.id if is_conversation else self.object_id(change.subject)
        if subject_id is None:
            return
        kind = SubjectKind.CONVERSATION if is_conversation else SubjectKind.BUSINESS_OBJECT
        stage_moved(self.session, kind, subject_id, change, self.now)  # reports: before the row
        self.session.add(
            StageHistory(
                subject_kind=SubjectKind.CONVERSATION
                if is_conversation
                else SubjectKind.BUSINESS_OBJECT,
                subject_id=subject_id,
                pipeline=change.pipeline,
                from_stage=change.from_stage,
                to_stage=change.to_stage,
                actor_kind=_actor_kind(change.actor),
                actor_teammate_id=change.actor.id if change.actor.is_person else None,
                rule_name=change.actor.name if change.actor.is_rule else None,
                config_version_id=self.config_version_id,
                at=self.now,
            )
        )

    def task(self, change: TaskCreated) -> None:
        held = None
        if change.held is not None:
            held = {
                "template": change.held.template,
                "language": change.held.language,
                "missing": list(change.held.missing),
                "rule": change.actor.name,
            }
        self.session.add(
            Task(
                title=change.title[:300],
                due_at=change.due_at,
                assignee_id=self.teammate(change.assignee),
                team_id=self.directory.teams.get(change.team) if change.team else None,
                conversation_id=self.conversation.id,
                business_object_id=self.object_id(change.subject),
                held_send=held,
                created_at=self.now,
            )
        )

    def audit(self, change: Audited) -> None:
        object_id = self.object_id(change.subject)
        self.session.add(
            AuditLog(
                actor_kind=_actor_kind(change.actor),
                actor_teammate_id=change.actor.id if change.actor.is_person else None,
                actor_name=None if change.actor.is_person else change.actor.name,
                action=change.action,
                subject_kind="business_object" if object_id is not None else "conversation",
                subject_id=object_id if object_id is not None else self.conversation.id,
                detail=_plain(dict(change.detail)),
                config_version_id=self.config_version_id,
                at=self.now,
            )
        )

    def delay_finished(self, change: DelayFinished) -> None:
        delay_id = key_id(change.key)
        if delay_id is None:
            return  # scheduled and finished within one step: nothing was stored
        values: dict[str, Any] = {
            "state": DelayState(change.state),
            "outcome": change.outcome,
            "finished_at": self.now,
            "lease_expires_at": None,
        }
        if change.by is not None and change.by.is_person:
            values["cancelled_by_id"] = change.by.id
        self.session.execute(
            update(ScheduledAction)
            .where(ScheduledAction.id == delay_id)
            .values(**values)
            .execution_options(synchronize_session="fetch")
        )

    def clock(self, key: str, **values: Any) -> None:
        clock_id = key_id(key)
        if clock_id is None:
            return
        self.session.execute(
            update(SlaClock)
            .where(SlaClock.id == clock_id)
            .values(**values)
            .execution_options(synchronize_session="fetch")
        )

    # ----- intents: rows for the outbox ----------------------------------------------------
    def intent(self, intent: Any) -> None:
        actor: Actor = intent.actor
        teammate_id = actor.id if actor.is_person else None
        rule = actor.name if actor.is_rule else None
        match intent:
            case SendText():
                message = queue_text(
                    self.session,
                    conversation_id=self.conversation.id,
                    body=intent.text,
                    author_teammate_id=teammate_id,
                    author_rule=rule,
                    now=self.now,
                    reply_to_message_id=intent.reply_to,
                )
                self.done.messages.append(message.id)
            case SendRich():
                message = queue_rich(
                    self.session,
                    conversation_id=self.conversation.id,
                    message=intent.message,
                    author_teammate_id=teammate_id,
                    author_rule=rule,
                    now=self.now,
                )
                self.done.messages.append(message.id)
            case SendTemplate():
                message = queue_template(
                    self.session,
                    conversation_id=self.conversation.id,
                    template_name=intent.template,
                    language=intent.language,
                    parameters=list(intent.variables),
                    header_parameters=list(intent.header_variables),
                    author_teammate_id=teammate_id,
                    author_rule=rule,
                    now=self.now,
                    preview=intent.preview,
                )
                self.done.messages.append(message.id)
            case CallIntegration():
                self.outbox(
                    CALL_KIND,
                    intent.key,
                    rule,
                    {
                        "integration": intent.integration,
                        "operation": intent.operation,
                        "business_object_id": self.object_id(intent.subject),
                    },
                )
            case RequestPayment():
                self.outbox(
                    PAYMENT_KIND,
                    intent.key,
                    rule,
                    {
                        "provider": intent.provider,
                        "amount": str(intent.amount),
                        "currency": intent.currency,
                        "business_object_id": self.object_id(intent.subject),
                    },
                )

    def outbox(self, kind: str, key: str, rule: str | None, payload: dict[str, Any]) -> None:
        row = OutboxRow(
            kind=kind,
            payload={**payload, "conversation_id": self.conversation.id, "rule": rule},
            idempotency_key=f"c{self.conversation.id}:{key}"[:255],
            conversation_id=self.conversation.id,
            next_attempt_at=self.now,
        )
        self.session.add(row)
        self.session.flush()
        self.done.outbox.append(row.id)

    # ----- the rule history ------------------------------------------------------------------
    def firing(self, firing: Firing) -> None:
        self.session.add(
            RuleFiring(
                rule_name=firing.rule,
                trigger_key=trigger_key(self.conversation.id, firing.event.id),
                conversation_id=self.conversation.id,
                outcome=firing.outcome,
                detail={
                    "event": firing.event.kind,
                    "key": firing.event.key,
                    "caused_by": firing.event.caused_by,
                    "actions": [_plain(dict(a)) for a in firing.actions],
                },
                config_version_id=self.config_version_id,
                fired_at=self.now,
            )
        )

    def trace(self, trace: EventTrace) -> None:
        event = trace.event
        self.session.add(
            RuleTrace(
                conversation_id=self.conversation.id,
                event_id=event.id[:255],
                event_kind=event.kind[:64],
                event_key=event.key[:255] if event.key else None,
                caused_by=event.caused_by,
                rules=[
                    {"rule": r.rule, "fired": r.fired, "failed": r.failed, "reason": r.reason}
                    for r in trace.rules
                ],
                config_version_id=self.config_version_id,
                at=self.now,
            )
        )


def persist(
    session: Session,
    conversation: Conversation,
    before: State,
    outcome: Outcome,
    directory: Directory,
    config_version_id: int | None,
    now: datetime,
) -> Persisted:
    """Write `outcome` for `conversation` (locked by the caller); flushes, never commits."""
    writer = _Writer(session, conversation, directory, config_version_id, now)
    created = {c.key for c in outcome.changes if isinstance(c, ObjectCreated)}
    writer.columns(before, outcome.state)
    writer.objects(before, outcome.state, created)
    for change in outcome.changes:
        writer.change(change)
    for intent in outcome.intents:
        writer.intent(intent)
    for firing in outcome.firings:
        writer.firing(firing)
    for trace in outcome.traces:
        writer.trace(trace)
    session.flush()
    return writer.done


def _actor_kind(actor: Actor) -> str:
    return actor.kind if actor.kind in {k.value for k in ActorKind} else ActorKind.SYSTEM


def _plain(value: Any) -> Any:
    """JSON-ready: instants as ISO text, amounts and other odd values as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
