"""A scenario's `expect` held against the facts the database shows (facts.py).

Expected effects are matched in any order, each fact serving one expectation: the
tables share no common order, and kazi test already checks the order in memory.
`absent` is checked against recorded facts only, never against ones read off state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsl.scenarios import instant, plain
from tests.scenarios_e2e.facts import Record


def expected_shape(expected: Mapping[str, Any]) -> dict[str, Any]:
    """An expected effect as the database can show it (see the table above)."""
    shaped = plain(dict(expected))
    kind = shaped["kind"]
    for key in ("assignee", "recipient"):
        who = shaped.get(key)
        if isinstance(who, dict):
            stored_unassigned = kind in ("create_task", "remind") and who.get("kind") == "team"
            shaped[key] = None if stored_unassigned else who.get("name")
    if kind == "set_field" and "value" in shaped:
        shaped["value"] = str(expected["value"])  # the audit keeps the value as text
    return shaped


def matches(expected: Any, actual: Any) -> bool:
    """Subset match: every expected field equals the actual one; times as instants."""
    if isinstance(expected, dict):
        return isinstance(actual, Mapping) and all(
            matches(v, actual.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(actual, datetime) and isinstance(expected, str | datetime):
        return instant(expected) == actual
    if _number(expected) and _number(actual):
        return float(expected) == float(actual)
    return bool(expected == actual)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(expect: Mapping[str, Any], record: Record) -> list[str]:
    """The scenario's expectations the database does not bear out; empty when all hold."""
    failures: list[str] = []
    used: set[tuple[str, int]] = set()
    for expected in expect.get("effects", []):
        wanted = expected_shape(expected)
        found = next(
            (
                f
                for f in record.of_kind(wanted["kind"])
                if (f.inferred or f.source not in used) and matches(wanted, f.effect)
            ),
            None,
        )
        if found is None:
            there = [f.effect for f in record.of_kind(wanted["kind"])]
            failures.append(
                f"expected effect not in the database: {_json(wanted)}; "
                f"{wanted['kind']} facts there: {_json(there)}"
            )
        elif not found.inferred:
            used.add(found.source)
    for unwanted in expect.get("absent", []):
        shaped = expected_shape(unwanted)
        present = [
            f.effect
            for f in record.of_kind(shaped["kind"], recorded_only=True)
            if matches(shaped, f.effect)
        ]
        if present:
            failures.append(f"unexpected effect in the database: {_json(present[0])}")
    for key in ("stage", "owner", "team", "status", "priority"):
        if key in expect and record.conversation[key] != expect[key]:
            failures.append(f"{key}: expected {expect[key]!r}, got {record.conversation[key]!r}")
    if "tags" in expect and record.tags != sorted(expect["tags"]):
        failures.append(f"tags: expected {sorted(expect['tags'])}, got {record.tags}")
    if "tasks" in expect:
        tasks = [f.effect for f in record.tasks]
        wanted_tasks = [expected_shape({"kind": "create_task", **t}) for t in expect["tasks"]]
        if len(tasks) != len(wanted_tasks) or not all(
            matches(w, t) for w, t in zip(wanted_tasks, tasks, strict=False)
        ):
            failures.append(f"tasks: expected {_json(wanted_tasks)}, got {_json(tasks)}")
    return failures


def _json(value: Any) -> str:
    return json.dumps(plain(value), default=str, ensure_ascii=False)
