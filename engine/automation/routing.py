"""Ownership for a new conversation, by routing.yaml: the first rule whose `when` holds.

Strategies choose among the target team's active members, from database state
every process sees alike (no in-memory rotation): `round_robin` picks the member
whose last assignment is oldest, `least_busy` the one with fewest open
conversations, `sticky` the teammate who already owns this customer's latest
conversation; all of them skip teammates at capacity. `unassigned` leaves it to
the team's queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.rules.evaluate import roots
from engine.core.rules.events import DomainEvent, Snapshot
from engine.core.rules.graph import RoutingSpec, RuleGraph
from engine.models import Conversation, Team, Teammate, TeamMembership


@dataclass(frozen=True)
class RoutingDecision:
    rule: str
    team_id: int | None
    owner_id: int | None


def route(
    session: Session,
    graph: RuleGraph,
    conversation: Conversation,
    event: DomainEvent | None,
    snapshot: Snapshot,
    now: datetime,
) -> RoutingDecision | None:
    values = roots(event, snapshot)
    for spec in graph.routing:
        if spec.when is not None and not spec.when(values, now):
            continue
        team = (
            session.scalars(select(Team).where(Team.handle == spec.team)).first()
            if spec.team
            else None
        )
        return RoutingDecision(
            spec.name, team.id if team else None, _owner(session, spec, team, conversation)
        )
    return None


def _owner(
    session: Session, spec: RoutingSpec, team: Team | None, conversation: Conversation
) -> int | None:
    if spec.strategy == "unassigned":
        return None
    candidates = _available(session, team, conversation)
    if spec.teammate:
        named = next((t for t in candidates if t.handle == spec.teammate), None)
        if named is not None:
            return named.id
    if not candidates:
        return None
    if spec.strategy == "sticky":
        previous = session.scalar(
            select(Conversation.owner_id)
            .where(
                Conversation.contact_id == conversation.contact_id,
                Conversation.id != conversation.id,
                Conversation.owner_id.is_not(None),
            )
            .order_by(Conversation.opened_at.desc())
            .limit(1)
        )
        if previous in {t.id for t in candidates}:
            return previous
        return _least_busy(session, candidates)
    if spec.strategy == "round_robin":
        last: dict[int, datetime] = {
            owner: at
            for owner, at in session.execute(
                select(Conversation.owner_id, func.max(Conversation.opened_at))
                .where(Conversation.owner_id.in_([t.id for t in candidates]))
                .group_by(Conversation.owner_id)
            )
            if owner is not None
        }
        return min(candidates, key=lambda t: (last.get(t.id) is not None, last.get(t.id), t.id)).id
    return _least_busy(session, candidates)


def _available(session: Session, team: Team | None, conversation: Conversation) -> list[Teammate]:
    query = select(Teammate).where(Teammate.active.is_(True))
    if team is not None:
        query = query.join(TeamMembership, TeamMembership.teammate_id == Teammate.id).where(
            TeamMembership.team_id == team.id
        )
    people = list(session.scalars(query.order_by(Teammate.id)))
    load = _open_load(session, [t.id for t in people], conversation.id)
    return [t for t in people if t.capacity is None or load.get(t.id, 0) < t.capacity]


def _open_load(session: Session, teammate_ids: list[int], excluding: int) -> dict[int, int]:
    if not teammate_ids:
        return {}
    rows = session.execute(
        select(Conversation.owner_id, func.count())
        .where(
            Conversation.owner_id.in_(teammate_ids),
            Conversation.status != "resolved",
            Conversation.id != excluding,
        )
        .group_by(Conversation.owner_id)
    )
    return {owner: count for owner, count in rows if owner is not None}


def _least_busy(session: Session, candidates: list[Teammate]) -> int:
    load = _open_load(session, [t.id for t in candidates], -1)
    return min(candidates, key=lambda t: (load.get(t.id, 0), t.id)).id
