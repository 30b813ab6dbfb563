"""Which routing rule and which SLA policy apply: the first whose condition holds."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.core.rules.evaluate import roots
from engine.core.rules.events import DomainEvent, Snapshot
from engine.core.rules.graph import RoutingSpec, RuleGraph, SlaSpec


def choose_route(
    graph: RuleGraph, snapshot: Snapshot, now: datetime, event: DomainEvent | None = None
) -> RoutingSpec | None:
    """routing.yaml's rules top to bottom: the first whose `when` holds (or has none)."""
    values = roots(event, snapshot)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return next((r for r in graph.routing if r.when is None or r.when(values, now)), None)


def choose_sla(graph: RuleGraph, snapshot: Snapshot, now: datetime) -> SlaSpec | None:
    """sla.yaml's policies top to bottom: the first whose `applies_when` holds (or has none)."""
    values = roots(None, snapshot)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return next(
        (p for p in graph.sla if p.applies_when is None or p.applies_when(values, now)), None
    )
