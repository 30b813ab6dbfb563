"""The matching of a scenario's `expect` against database facts, on hand-made records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.scenarios_e2e.expectations import compare, expected_shape, matches
from tests.scenarios_e2e.facts import Fact, Record

NAIROBI = timezone(timedelta(hours=3))


def record(*effects: dict[str, Any], inferred: tuple[dict[str, Any], ...] = ()) -> Record:
    facts = [Fact(("row", n), effect) for n, effect in enumerate(effects)]
    facts += [Fact(("conversation", 0), effect, True) for effect in inferred]
    state = {"stage": "quote", "owner": "brian", "team": None, "status": "open"}
    return Record(conversation={**state, "priority": "normal"}, tags=["vip"], facts=facts)


def quote(**extra: Any) -> dict[str, Any]:
    return {"kind": "send_template", "template": "quote_ready", "variables": ["Achieng"], **extra}


def test_an_expected_effect_missing_from_the_database_is_reported() -> None:
    [failure] = compare({"effects": [quote()]}, record(quote(template="we_are_open")))
    assert failure.startswith("expected effect not in the database")


def test_one_row_serves_one_expected_effect() -> None:
    assert compare({"effects": [quote()]}, record(quote())) == []
    assert len(compare({"effects": [quote(), quote()]}, record(quote()))) == 1
    assert compare({"effects": [quote(), quote()]}, record(quote(), quote())) == []


def test_absent_sees_recorded_facts_but_not_ones_read_off_the_state() -> None:
    assign = {"kind": "assign", "teammate": "brian", "team": None}
    assert compare({"absent": [{"kind": "assign"}]}, record(inferred=(assign,))) == []
    assert (
        compare({"effects": [{"kind": "assign", "teammate": "brian"}]}, record(inferred=(assign,)))
        == []
    )
    assert compare({"absent": [{"kind": "assign"}]}, record(assign)) != []


def test_a_task_for_a_team_is_stored_unassigned_and_one_for_the_owner_is_theirs() -> None:
    due = datetime(2026, 3, 2, 7, 45, tzinfo=UTC)
    for_team = {"kind": "create_task", "title": "Quote", "assignee": None, "due_at": due}
    wanted = {"title": "Quote", "assignee": {"kind": "team", "name": "sales"}}
    assert (
        compare({"tasks": [{**wanted, "due_at": due.astimezone(NAIROBI)}]}, record(for_team)) == []
    )
    owners = {"title": "Quote", "assignee": {"kind": "owner", "name": "brian"}}
    assert compare({"tasks": [owners]}, record(for_team)) != []
    assert compare({"tasks": []}, record(for_team)) != []


def test_state_expectations_read_the_conversation() -> None:
    assert compare({"stage": "quote", "owner": "brian", "tags": ["vip"]}, record()) == []
    assert compare({"stage": "payment"}, record()) == ["stage: expected 'payment', got 'quote'"]
    assert compare({"tags": []}, record()) == ["tags: expected [], got ['vip']"]


def test_values_compare_as_the_database_keeps_them() -> None:
    assert expected_shape({"kind": "set_field", "field": "paid", "value": True})["value"] == "True"
    assert matches({"amount": 23500}, {"amount": 23500.0})
    assert not matches({"amount": 23500}, {"amount": 20000.0})
    assert matches("2026-03-02T10:45:00+03:00", datetime(2026, 3, 2, 7, 45, tzinfo=UTC))
    assert not matches(["a", "b"], ["a"])
