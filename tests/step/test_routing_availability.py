"""Routing gives new conversations only to who is working: not away, on shift, with room,
and prefers who speaks the contact's language; when nobody is on, the rule's fallback
(the team's queue) applies with the reason in the audit trail. Pure: `step` on a state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path

from dsl.scenarios import initial_state
from dsl.workspace import compile_workspace
from engine.core.rules import DomainEvent, RuleGraph
from engine.core.step import Audited, ContactState, Member, Outcome, Roster, State, step
from engine.workspaces.installed import INSTALLED

REPO = Path(__file__).resolve().parents[2]
MONDAY_11 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 11:00 in Nairobi, business hours
SALES = ("wanjiru", "brian", "faith")


def _graph() -> RuleGraph:
    result = compile_workspace(REPO / "configs" / "retail", capabilities=INSTALLED)
    assert result.graph is not None, result.diagnostics
    return result.graph


GRAPH = _graph()


def _opened(state: State, now: datetime = MONDAY_11) -> Outcome:
    event = DomainEvent("conversation_opened", "open-1", now, data={})
    return step(state, event, GRAPH, now)


def _state(*members: Member, language: str | None = None, fields: dict | None = None) -> State:
    state = initial_state(GRAPH, {})
    return replace(
        state,
        roster=Roster(members),
        contact=ContactState(id=1, language=language, fields=fields or {}),
    )


def _sales(**overrides: dict) -> tuple[Member, ...]:
    return tuple(
        Member(handle, teams=("sales",), **{"languages": ("en", "sw"), **overrides.get(handle, {})})
        for handle in SALES
    )


def _route_audit(outcome: Outcome) -> Audited:
    return next(c for c in outcome.changes if isinstance(c, Audited) and c.action == "route")


def test_round_robin_takes_the_first_teammate_when_everyone_is_working() -> None:
    outcome = _opened(_state(*_sales()))
    assert (outcome.state.conversation.team, outcome.state.conversation.owner) == (
        "sales",
        "wanjiru",
    )


def test_a_teammate_who_set_themselves_away_is_passed_over() -> None:
    outcome = _opened(_state(*_sales(wanjiru={"away": True})))
    assert outcome.state.conversation.owner == "brian"


def test_a_teammate_off_shift_is_passed_over_and_on_shift_is_not() -> None:
    saturdays = ((5, time(9), time(13)),)
    monday_mornings = ((0, time(8), time(12)),)  # Nairobi time: 11:00 is inside
    members = _sales(wanjiru={"shifts": saturdays}, brian={"shifts": monday_mornings})
    assert _opened(_state(*members)).state.conversation.owner == "brian"
    # At 13:00 Nairobi brian's shift is over too.
    later = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert _opened(_state(*members), later).state.conversation.owner == "faith"


def test_an_empty_shift_list_is_never_on() -> None:
    members = _sales(wanjiru={"shifts": ()})
    assert _opened(_state(*members)).state.conversation.owner == "brian"


def test_who_speaks_the_contacts_language_is_preferred() -> None:
    members = _sales(faith={"languages": ("en", "sw", "ki")})
    assert _opened(_state(*members, language="ki")).state.conversation.owner == "faith"
    # Nobody speaks French: everyone working is still a candidate.
    assert _opened(_state(*members, language="fr")).state.conversation.owner == "wanjiru"


def test_the_language_preference_never_picks_someone_away() -> None:
    members = _sales(faith={"languages": ("ki",), "away": True})
    assert _opened(_state(*members, language="ki")).state.conversation.owner == "wanjiru"


def test_when_nobody_is_on_the_conversation_waits_in_the_teams_queue_with_the_reason() -> None:
    members = _sales(
        wanjiru={"away": True},
        brian={"shifts": ((5, time(9), time(13)),)},
        faith={"capacity": 2, "open_load": 2},
    )
    outcome = _opened(_state(*members))
    conversation = outcome.state.conversation
    assert (conversation.team, conversation.owner) == ("sales", None)
    why = _route_audit(outcome).detail["why"]
    assert "away: wanjiru" in why
    assert "off shift: brian" in why
    assert "at capacity: faith" in why
    assert "sales queue" in why


def test_a_named_teammate_who_is_away_gives_way_to_the_rules_strategy() -> None:
    corporate = {"customer_type": "corporate"}
    # (A rule of the sample then hands corporate buyers to wanjiru by name, an explicit
    # `assign` routing does not second-guess; the routing decision is what is checked.)
    named = _route_audit(_opened(_state(*_sales(), fields=corporate)))
    assert named.detail["routing_rule"] == "corporate buyers"
    assert named.detail["owner"] == "wanjiru"
    away = _route_audit(_opened(_state(*_sales(wanjiru={"away": True}), fields=corporate)))
    assert away.detail["routing_rule"] == "corporate buyers"
    assert away.detail["owner"] in ("brian", "faith")
