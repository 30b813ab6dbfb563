"""Which SLA clocks should run after a step, against the ones running before it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from engine.core.rules.graph import Roots, RuleGraph, SlaSpec
from engine.core.sla import ConversationTimes, is_met, running_clocks
from engine.core.states import ConversationStatus, WaitingOn
from engine.core.step.outcome import Change, ClockMoved, ClockStarted, ClockStopped
from engine.core.step.state import Clock, ConversationState


def policy_for(graph: RuleGraph, values: Roots, now: datetime) -> SlaSpec | None:
    """sla.yaml's policies top to bottom: the first whose `applies_when` holds (or has none)."""
    return next(
        (p for p in graph.sla if p.applies_when is None or p.applies_when(values, now)), None
    )


def times_of(conversation: ConversationState) -> ConversationTimes | None:
    if conversation.opened_at is None:
        return None
    return ConversationTimes(
        opened_at=conversation.opened_at,
        last_customer_message_at=conversation.last_inbound_at,
        first_reply_at=conversation.first_reply_at,
        last_reply_at=conversation.last_reply_at,
        waiting_on_us=conversation.waiting_on == WaitingOn.US,
        resolved=conversation.status == ConversationStatus.RESOLVED,
    )


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
) -> ClockPlan:
    """Keep the clocks that should still run (moving their deadlines if the policy's did),
    stop the rest (met or not), start the missing ones under keys `new_key` + kind."""
    times = times_of(conversation)
    wanted = {}
    if policy is not None and policy.targets is not None and times is not None:
        wanted = {spec.kind: spec for spec in running_clocks(policy.targets, times, graph.calendar)}
    kept: list[Clock] = []
    changes: list[Change] = []
    for clock in running:
        spec = wanted.get(clock.kind)
        if spec is not None and (spec.started_at, spec.policy) == (clock.started_at, clock.policy):
            if (spec.due_at, spec.warn_at) != (clock.due_at, clock.warn_at):
                changes.append(ClockMoved(clock.key, spec.due_at, spec.warn_at))
                clock = replace(clock, due_at=spec.due_at, warn_at=spec.warn_at)
            kept.append(clock)
            del wanted[clock.kind]
            continue
        met = times is not None and is_met(clock.kind, clock.started_at, times)
        changes.append(ClockStopped(clock.key, met and clock.breached_at is None))
    for spec in wanted.values():
        clock = Clock(
            kind=spec.kind,
            policy=spec.policy,
            started_at=spec.started_at,
            due_at=spec.due_at,
            warn_at=spec.warn_at,
            key=f"{new_key}{spec.kind}",
        )
        kept.append(clock)
        changes.append(ClockStarted(clock))
    return ClockPlan(tuple(kept), tuple(changes))
