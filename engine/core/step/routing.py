"""Who gets a conversation, by routing.yaml: the first rule whose `when` holds, then its strategy.

Strategies choose among the target team's members from the roster every process
loads alike (no in-memory rotation) who are working: active, not away, on shift
now (their `shifts`, in the workspace's timezone) and under their capacity.
Those who speak the contact's language are preferred; when none does, the others
still are. `round_robin` picks the member whose last new conversation is oldest,
`least_busy` the one with the fewest open conversations, `sticky` the teammate who
had this customer last. `unassigned` leaves it to the team's queue, and so does
every strategy when nobody is working: the rule's fallback, with the reason kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.calendar import BusinessCalendar, OpeningWindow
from engine.core.rules.graph import Roots, RoutingSpec, RuleGraph
from engine.core.step.state import Member, Roster


@dataclass(frozen=True)
class RouteDecision:
    rule: str
    team: str | None
    owner: str | None
    why: str | None = None  # when nobody could be chosen, the reason (for the audit trail)


def choose_owner(
    graph: RuleGraph,
    values: Roots,
    roster: Roster,
    now: datetime,
    language: str | None = None,
) -> RouteDecision | None:
    timezone = graph.config.timezone if graph.config is not None else "UTC"
    for spec in graph.routing:
        if spec.when is not None and not spec.when(values, now):
            continue
        if spec.strategy == "unassigned":
            return RouteDecision(spec.name, spec.team, None)
        people = roster.team_members(spec.team) if spec.team else roster.members
        working = [m for m in people if working_now(m, now, timezone)]
        owner = _owner(spec, roster, working, language)
        why = None
        if owner is None:
            why = _nobody_why(people, spec, now, timezone)
        return RouteDecision(spec.name, spec.team, owner, why)
    return None


def working_now(member: Member, now: datetime, timezone: str) -> bool:
    """Active, not away, on shift and with room: may be given a new conversation now."""
    if not member.active or member.away:
        return False
    if member.capacity is not None and member.open_load >= member.capacity:
        return False
    return on_shift(member, now, timezone)


def on_shift(member: Member, now: datetime, timezone: str) -> bool:
    if member.shifts is None:
        return True
    if not member.shifts:
        return False
    windows = tuple(OpeningWindow(day, opens, closes) for day, opens, closes in member.shifts)
    return BusinessCalendar(timezone, windows).is_open(now)


def _owner(
    spec: RoutingSpec, roster: Roster, working: list[Member], language: str | None
) -> str | None:
    if spec.teammate:
        named = next((m for m in working if m.handle == spec.teammate), None)
        if named is not None:
            return named.handle
    if not working:
        return None
    if spec.strategy == "sticky" and roster.previous_owner in {m.handle for m in working}:
        return roster.previous_owner
    speakers = [m for m in working if language and language in m.languages]
    candidates = speakers or working
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


def _nobody_why(people: tuple[Member, ...], spec: RoutingSpec, now: datetime, timezone: str) -> str:
    where = f"the {spec.team} queue" if spec.team else "the unassigned queue"
    if not people:
        return f"nobody on: no teammates in the team; left in {where}"
    away = [m.handle for m in people if m.active and m.away]
    off = [m.handle for m in people if m.active and not m.away and not on_shift(m, now, timezone)]
    full = [
        m.handle
        for m in people
        if m.active and m.capacity is not None and m.open_load >= m.capacity
    ]
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("away:", away), ("off shift:", off), ("at capacity:", full))
        if names
    ]
    detail = "; ".join(parts) or "no active teammates"
    return f"nobody on ({detail}); left in {where}"


def _least_busy(candidates: list[Member]) -> str:
    order = {m.handle: i for i, m in enumerate(candidates)}
    return min(candidates, key=lambda m: (m.open_load, order[m.handle])).handle
