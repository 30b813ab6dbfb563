"""Who gets a conversation, by routing.yaml: the first rule whose `when` holds, then its strategy.

Strategies choose among the target team's active members from the roster every
process loads alike (no in-memory rotation): `round_robin` picks the member whose
last new conversation is oldest, `least_busy` the one with the fewest open
conversations, `sticky` the teammate who had this customer last; all of them skip
teammates at capacity. `unassigned` leaves it to the team's queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.graph import Roots, RoutingSpec, RuleGraph
from engine.core.step.state import Member, Roster


@dataclass(frozen=True)
class RouteDecision:
    rule: str
    team: str | None
    owner: str | None


def choose_owner(
    graph: RuleGraph, values: Roots, roster: Roster, now: datetime
) -> RouteDecision | None:
    for spec in graph.routing:
        if spec.when is not None and not spec.when(values, now):
            continue
        return RouteDecision(spec.name, spec.team, _owner(spec, roster))
    return None


def _owner(spec: RoutingSpec, roster: Roster) -> str | None:
    if spec.strategy == "unassigned":
        return None
    candidates = _available(spec, roster)
    if spec.teammate:
        named = next((m for m in candidates if m.handle == spec.teammate), None)
        if named is not None:
            return named.handle
    if not candidates:
        return None
    if spec.strategy == "sticky":
        if roster.previous_owner in {m.handle for m in candidates}:
            return roster.previous_owner
        return _least_busy(candidates)
    if spec.strategy == "round_robin":
        # Never assigned first, then the longest since their last; ties by roster order.
        order = {m.handle: i for i, m in enumerate(candidates)}
        return min(
            candidates,
            key=lambda m: (
                m.last_assigned_at is not None,
                m.last_assigned_at.timestamp() if m.last_assigned_at else 0.0,
                order[m.handle],
            ),
        ).handle
    return _least_busy(candidates)


def _available(spec: RoutingSpec, roster: Roster) -> list[Member]:
    people = roster.team_members(spec.team) if spec.team else roster.members
    return [m for m in people if m.active and (m.capacity is None or m.open_load < m.capacity)]


def _least_busy(candidates: list[Member]) -> str:
    order = {m.handle: i for i, m in enumerate(candidates)}
    return min(candidates, key=lambda m: (m.open_load, order[m.handle])).handle
