"""Which SLA clocks should run after a step, against the ones running before it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from engine.core.rules.calendar import BusinessCalendar
from engine.core.rules.graph import Roots, RuleGraph, SlaSpec
from engine.core.sla import (
    ClockSpec,
    ConversationTimes,
    Pause,
    SlaTargets,
    advance_pause,
    is_met,
    pause_wanted,
    paused_due,
    running_clocks,
)
from engine.core.states import ConversationStatus, WaitingOn
from engine.core.step.outcome import Change, ClockMoved, ClockStarted, ClockStopped
from engine.core.step.state import Clock, ConversationState


def policy_for(graph: RuleGraph, values: Roots, now: datetime) -> SlaSpec | None:
    """sla.yaml's policies top to bottom: the first whose `applies_when` holds (or has none)."""
    return next(
        (p for p in graph.sla if p.applies_when is None or p.applies_when(values, now)), None
    )


def times_of(conversation: ConversationState, now: datetime) -> ConversationTimes | None:
    if conversation.opened_at is None:
        return None
    until = conversation.snoozed_until
    snoozed = conversation.status == ConversationStatus.SNOOZED and (until is None or until > now)
    return ConversationTimes(
        opened_at=conversation.opened_at,
        last_customer_message_at=conversation.last_inbound_at,
        first_reply_at=conversation.first_reply_at,
        last_reply_at=conversation.last_reply_at,
        waiting_on_us=conversation.waiting_on == WaitingOn.US,
        resolved=conversation.status == ConversationStatus.RESOLVED,
        waiting_on_customer=conversation.waiting_on == WaitingOn.CUSTOMER,
        snoozed=snoozed,
        snoozed_until=until if snoozed else None,
    )


def _paused(
    spec: ClockSpec,
    before: Pause,
    targets: SlaTargets,
    times: ConversationTimes,
    now: datetime,
    calendar: BusinessCalendar,
) -> tuple[Pause, datetime, datetime | None]:
    """The clock's pause after this step, and its deadline and warning moved by it."""
    if spec.duration is None:
        return before, spec.due_at, spec.warn_at
    wanted, until = pause_wanted(spec.kind, targets, times)
    pause = advance_pause(before, wanted, until, now, spec.duration, calendar)
    due = paused_due(spec.due_at, pause, spec.duration, calendar)
    warn = due - targets.warn_before if targets.warn_before else None
    return pause, due, warn


@dataclass(frozen=True)
class ClockPlan:
    clocks: tuple[Clock, ...]  # running after the step
    changes: tuple[Change, ...]


def plan_clocks(
    graph: RuleGraph,
    policy: SlaSpec | None,
    conversation: ConversationState,
    running: tuple[Clock, ...],
    new_key: str,
    now: datetime,
) -> ClockPlan:
    """Keep the clocks that should still run (moving their deadlines if the policy's did),
    stop the rest (met or not), start the missing ones under keys `new_key` + kind.
    Pauses and resumes at `now` as the policy says, moving the deadlines by the paused time."""
    times = times_of(conversation, now)
    wanted = {}
    targets = policy.targets if policy is not None else None
    if targets is not None and times is not None:
        wanted = {spec.kind: spec for spec in running_clocks(targets, times, graph.calendar)}
    kept: list[Clock] = []
    changes: list[Change] = []
    for clock in running:
        spec = wanted.get(clock.kind)
        if spec is not None and (spec.started_at, spec.policy) == (clock.started_at, clock.policy):
            assert targets is not None and times is not None
            before = Pause(clock.paused_seconds, clock.paused_at, clock.paused_until)
            pause, due, warn = _paused(spec, before, targets, times, now, graph.calendar)
            if (due, warn, pause) != (clock.due_at, clock.warn_at, before):
                changes.append(
                    ClockMoved(
                        clock.key,
                        due,
                        warn,
                        pause.paused_seconds,
                        pause.paused_at,
                        pause.paused_until,
                    )
                )
                clock = replace(
                    clock,
                    due_at=due,
                    warn_at=warn,
                    paused_seconds=pause.paused_seconds,
                    paused_at=pause.paused_at,
                    paused_until=pause.paused_until,
                )
            kept.append(clock)
            del wanted[clock.kind]
            continue
        met = times is not None and is_met(clock.kind, clock.started_at, times)
        changes.append(ClockStopped(clock.key, met and clock.breached_at is None))
    for spec in wanted.values():
        assert targets is not None and times is not None
        pause, due, warn = _paused(spec, Pause(), targets, times, now, graph.calendar)
        clock = Clock(
            kind=spec.kind,
            policy=spec.policy,
            started_at=spec.started_at,
            due_at=due,
            warn_at=warn,
            key=f"{new_key}{spec.kind}",
            paused_seconds=pause.paused_seconds,
            paused_at=pause.paused_at,
            paused_until=pause.paused_until,
        )
        kept.append(clock)
        changes.append(ClockStarted(clock))
    return ClockPlan(tuple(kept), tuple(changes))
