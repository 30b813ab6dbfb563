"""Shared helpers for the rule tests: compile rule text against the in-code shop config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dsl.diagnostics import Diagnostic
from dsl.rules import build_graph
from engine.core.capabilities import EVERYTHING
from engine.core.rules import DomainEvent, RuleGraph, Snapshot
from tests.dsl.factory import shop_config

MONDAY_MORNING = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 in Nairobi, open


def compile_text(
    text: str, path: str = "rules/test.kazi"
) -> tuple[RuleGraph | None, list[Diagnostic]]:
    return build_graph(shop_config(), {path: text}, capabilities=EVERYTHING)


def graph_of(text: str) -> RuleGraph:
    graph, diagnostics = compile_text(text)
    errors = [d.headline() for d in diagnostics if d.is_error]
    assert graph is not None, errors
    return graph


def event(
    kind: str, key: str | None = None, at: datetime = MONDAY_MORNING, **data: Any
) -> DomainEvent:
    return DomainEvent(kind, f"{kind}-{key}", at, key, data)


def snapshot(
    conversation: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
    **objects: dict[str, Any],
) -> Snapshot:
    base = {"pipeline": "sales", "stage": "inquiry", "status": "open", "tags": []}
    return Snapshot({**base, **(conversation or {})}, contact or {}, objects)
