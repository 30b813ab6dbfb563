"""Keep a conversation's SLA clocks in step with what happened, and report breaches once.

`refresh_clocks` runs after every change the rule runtime applies: it picks the
first policy of sla.yaml whose selector holds, works out which clocks should
run (engine.core.sla), stops the ones that were met or no longer apply and
starts the new ones. `check_clock` is the job the sweeper enqueues when a clock
reaches its warning or its deadline: it refreshes first (a reply may have come),
then records the warning or breach once and hands it to the rules as an event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from engine.automation.runner import RulesInForce, rules_in_force, run_event
from engine.automation.snapshot import conversation_snapshot
from engine.conversations.threads import lock_conversation
from engine.core.clock import Clock
from engine.core.config import Duration as ConfiguredDuration
from engine.core.config import SlaPolicy
from engine.core.rules.calendar import Duration
from engine.core.rules.evaluate import roots
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.sla import ConversationTimes, SlaTargets, is_met, running_clocks
from engine.db import system_session, workspace_session
from engine.models import Conversation, Message, SlaClock
from engine.workspaces.directory import ConfigDirectory

_UNIT = {"minutes": ("m", 60), "hours": ("h", 3600), "days": ("d", 86400)}


def targets_of(policy: SlaPolicy) -> SlaTargets:
    warn = policy.warn_before
    return SlaTargets(
        policy=policy.name,
        first_response=_duration(policy.first_response, policy.business_hours),
        next_response=_duration(policy.next_response, policy.business_hours),
        resolution=_duration(policy.resolution, policy.business_hours),
        warn_before=timedelta(minutes=warn.minutes) if warn is not None else None,
    )


def _duration(configured: ConfiguredDuration | None, business_hours: bool) -> Duration | None:
    if configured is None:
        return None
    unit, seconds = _UNIT.get(configured.unit, ("m", 60))
    business = configured.business or (business_hours and unit != "d")
    if business and unit != "d":
        return Duration(configured.minutes * 60, True, unit, configured.amount)
    return Duration(configured.amount * seconds, business, unit, configured.amount)


def conversation_times(session: Session, conversation: Conversation) -> ConversationTimes:
    replies = select(
        func.min(Message.provider_timestamp), func.max(Message.provider_timestamp)
    ).where(
        Message.conversation_id == conversation.id,
        Message.direction == "outbound",
        Message.author_kind == "teammate",  # an automatic message is not an answer
    )
    first_reply, last_reply = session.execute(replies).one()
    return ConversationTimes(
        opened_at=conversation.opened_at,
        last_customer_message_at=conversation.last_customer_message_at,
        first_reply_at=first_reply,
        last_reply_at=last_reply,
        waiting_on_us=conversation.waiting_on == "us",
        resolved=conversation.status == "resolved",
    )


def refresh_clocks(
    session: Session, rules: RulesInForce, conversation: Conversation, now: datetime
) -> None:
    policy = _policy(rules, conversation, session, now)
    times = conversation_times(session, conversation)
    wanted = (
        {
            spec.kind: spec
            for spec in running_clocks(targets_of(policy), times, rules.graph.calendar)
        }
        if policy is not None
        else {}
    )
    running = session.scalars(
        select(SlaClock).where(
            SlaClock.conversation_id == conversation.id, SlaClock.stopped_at.is_(None)
        )
    ).all()
    for clock in running:
        spec = wanted.get(clock.kind)
        if spec is not None and (spec.started_at, spec.policy) == (clock.started_at, clock.policy):
            clock.due_at, clock.warn_at = spec.due_at, spec.warn_at
            del wanted[clock.kind]
            continue
        clock.stopped_at = now
        clock.met = is_met(clock.kind, clock.started_at, times) and (clock.breached_at is None)
    session.flush()
    for spec in wanted.values():
        session.add(
            SlaClock(
                conversation_id=conversation.id,
                kind=spec.kind,
                policy=spec.policy,
                started_at=spec.started_at,
                due_at=spec.due_at,
                warn_at=spec.warn_at,
            )
        )
    session.flush()
    due = {
        clock.kind: clock.due_at
        for clock in session.scalars(
            select(SlaClock).where(
                SlaClock.conversation_id == conversation.id, SlaClock.stopped_at.is_(None)
            )
        )
    }
    conversation.first_response_due_at = due.get("first_response")
    conversation.next_response_due_at = due.get("next_response")
    conversation.resolution_due_at = due.get("resolution")


def _policy(
    rules: RulesInForce, conversation: Conversation, session: Session, now: datetime
) -> SlaPolicy | None:
    values = roots(None, conversation_snapshot(session, conversation, rules.config))
    policies = {policy.name: policy for policy in rules.config.sla_policies}
    for spec in rules.graph.sla:
        if spec.applies_when is None or spec.applies_when(values, now):
            return policies.get(spec.name)
    return None


def check_clock(*, clock_id: int, db: Engine, clock: Clock, configs: ConfigDirectory) -> None:
    """The sweeper's job for a clock at its warning or deadline; safe to run twice."""
    now = clock.now()
    workspace_id = _workspace_of(db, clock_id)
    if workspace_id is None:
        return
    with workspace_session(db, workspace_id) as session:
        sla_clock = session.get(SlaClock, clock_id)
        if sla_clock is None or sla_clock.stopped_at is not None:
            return
        conversation = lock_conversation(session, sla_clock.conversation)
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None:
            return
        refresh_clocks(session, rules, conversation, now)
        session.refresh(sla_clock)
        if sla_clock.stopped_at is not None:
            session.commit()  # met or no longer applies: nothing to report
            return
        event = None
        if sla_clock.breached_at is None and sla_clock.due_at <= now:
            sla_clock.breached_at = now
            event = _event(TriggerKind.SLA_BREACHED, sla_clock, now)
        elif (
            sla_clock.warned_at is None
            and sla_clock.warn_at is not None
            and sla_clock.warn_at <= now
        ):
            sla_clock.warned_at = now
            event = _event(TriggerKind.SLA_WARNING, sla_clock, now)
        sla_clock.enqueued_at = None
        if event is not None:
            run_event(session, rules, conversation, event, now)
        session.commit()


def _event(kind: TriggerKind, sla_clock: SlaClock, now: datetime) -> DomainEvent:
    return DomainEvent(
        kind.value,
        f"sla:{sla_clock.id}:{kind.value}",
        now,
        key=sla_clock.policy,
        data={
            "sla": {
                "policy": sla_clock.policy,
                "kind": sla_clock.kind,
                "due_at": sla_clock.due_at,
            }
        },
    )


def _workspace_of(db: Engine, clock_id: int) -> int | None:
    with system_session(db) as session:
        return session.scalar(select(SlaClock.workspace_id).where(SlaClock.id == clock_id))
