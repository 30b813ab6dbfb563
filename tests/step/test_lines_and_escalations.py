"""Order lines and escalations in the one reducer: what a person's command does to the
record, what templates then read, and what a rule's `escalate ... because` produces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dsl.workspace import compile_workspace
from engine.core.rules import RuleGraph
from engine.core.rules import effects as fx
from engine.core.rules.evaluate import actions, filled_template, match, roots
from engine.core.rules.events import DomainEvent
from engine.core.states import ActorKind
from engine.core.step import (
    Actor,
    Audited,
    Command,
    ContactState,
    ConversationState,
    Escalated,
    EscalationDecided,
    Member,
    NoteAdded,
    Notified,
    ObjectState,
    Roster,
    State,
    TaskCreated,
    step,
)
from engine.core.step.view import snapshot
from engine.workspaces.installed import INSTALLED
from tests.dsl.helpers import compile_text

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
FAITH = Actor(ActorKind.TEAMMATE, "faith", 3)


@pytest.fixture(scope="module")
def retail() -> RuleGraph:
    result = compile_workspace(REPO / "configs" / "retail", capabilities=INSTALLED)
    assert result.graph is not None, result.diagnostics
    return result.graph


def _state(*members: Member) -> State:
    return State(
        conversation=ConversationState(
            id=7, owner="faith", last_inbound_at=NOW - timedelta(minutes=3)
        ),
        contact=ContactState(id=1, name="Achieng Odhiambo", language="en"),
        objects=(ObjectState(key="db:40", kind="order", id=40, reference="DB-40"),),
        roster=Roster(members or (Member("faith"), Member("wanjiru"), Member("brian", False))),
    )


def _command(*effects: fx.Effect) -> Command:
    return Command("staff:1", FAITH, effects, NOW)


LINES = (
    fx.LineItem("Hisense 43in TV", Decimal("1"), Decimal("38500")),
    fx.LineItem("Wall bracket", Decimal("2"), Decimal("1499.50")),
)


def test_lines_set_the_amount_to_their_exact_sum_and_templates_read_them(
    retail: RuleGraph,
) -> None:
    outcome = step(
        _state(),
        _command(fx.SetLineItems("", owner="order", subject="db:40", items=LINES)),
        retail,
        NOW,
    )
    assert outcome.refused is None
    order = outcome.state.object("db:40")
    assert order is not None
    assert order.items == LINES
    assert order.amount == Decimal("41499.00")
    assert order.currency == "KES"  # the workspace's currency, as it had none
    [audit] = [c for c in outcome.changes if isinstance(c, Audited)]
    assert audit.action == "set_line_items" and audit.subject == "db:40"
    assert audit.detail["amount"] == "41499.00"
    assert audit.detail["lines"][1] == "2 x Wall bracket @ 1499.50"

    # The quote template's {{2}} reads order.items and {{3}} order.amount.
    values = roots(None, snapshot(outcome.state))
    quote = filled_template(retail, "", "quote_ready", "en", values, NOW)
    assert quote.variables == (
        "Achieng",
        "1 x Hisense 43in TV @ 38,500; 2 x Wall bracket @ 1,499.50",
        "41499",
    )
    assert quote.header_variables == ("DB-40",)


def test_a_bad_line_refuses_the_whole_command_and_a_typed_amount_yields_to_the_lines(
    retail: RuleGraph,
) -> None:
    state = _state()
    for bad, why in (
        (fx.LineItem("", Decimal(1), Decimal(1)), "description"),
        (fx.LineItem("Cable", Decimal(0), Decimal(1)), "quantity"),
        (fx.LineItem("Cable", Decimal(1), Decimal(-1)), "negative"),
    ):
        outcome = step(
            state,
            _command(fx.SetLineItems("", owner="order", subject="db:40", items=(bad,))),
            retail,
            NOW,
        )
        assert outcome.refused is not None and why in outcome.refused.reason
        assert outcome.state == state
    filled = step(
        state,
        _command(fx.SetLineItems("", owner="order", subject="db:40", items=LINES)),
        retail,
        NOW,
    ).state
    typed = step(
        filled,
        _command(fx.SetField("", owner="order", field="amount", value="5", subject="db:40")),
        retail,
        NOW,
    )
    assert typed.refused is not None and "sum of its lines" in typed.refused.reason
    cleared = step(
        filled,
        _command(fx.SetLineItems("", owner="order", subject="db:40", items=())),
        retail,
        NOW,
    ).state.object("db:40")
    assert cleared is not None and cleared.items == () and cleared.amount == Decimal("41499.00")


def test_an_escalation_names_its_decider_notifies_them_and_a_decision_is_recorded(
    retail: RuleGraph,
) -> None:
    asked = step(
        _state(),
        _command(
            fx.Escalate(
                "", recipient=fx.Recipient("teammate", "wanjiru"), reason="Discount of 15%?"
            )
        ),
        retail,
        NOW,
    )
    assert asked.refused is None
    assert asked.state.conversation.priority == "urgent"
    assert "escalated" in asked.state.conversation.tags
    [escalated] = [c for c in asked.changes if isinstance(c, Escalated)]
    assert (escalated.decider, escalated.reason) == ("wanjiru", "Discount of 15%?")
    [task] = [c for c in asked.changes if isinstance(c, TaskCreated)]
    assert task.assignee == "wanjiru" and task.title.endswith("Discount of 15%?")
    [told] = [c for c in asked.changes if isinstance(c, Notified)]
    assert told.teammates == ("wanjiru",) and "Discount of 15%?" in told.text

    inactive = step(
        _state(),
        _command(fx.Escalate("", recipient=fx.Recipient("teammate", "brian"), reason="x")),
        retail,
        NOW,
    )
    assert inactive.refused is not None and "brian" in inactive.refused.reason

    decided = step(
        asked.state,
        Command(
            "staff:2",
            Actor(ActorKind.TEAMMATE, "wanjiru", 1),
            (
                fx.DecideEscalation(
                    "", escalation=5, decision="declined", note="10% max", asked_by="faith"
                ),
            ),
            NOW,
        ),
        retail,
        NOW,
    )
    assert decided.refused is None
    assert "escalated" not in decided.state.conversation.tags
    [answer] = [c for c in decided.changes if isinstance(c, EscalationDecided)]
    assert (answer.escalation, answer.decision, answer.note) == (5, "declined", "10% max")
    [note] = [c for c in decided.changes if isinstance(c, NoteAdded)]
    assert note.body == "Escalation declined by wanjiru: 10% max"
    [back] = [c for c in decided.changes if isinstance(c, Notified)]
    assert back.teammates == ("faith",)
    assert any(isinstance(c, Audited) and c.action == "escalation_decided" for c in decided.changes)


def test_a_rule_escalates_to_a_named_teammate_because_of_a_reason(retail: RuleGraph) -> None:
    graph, diagnostics = compile_text(
        'rule "big orders"\nwhen stage entered "quote"\nthen\n'
        '  escalate to teammate "wanjiku" because "Quote for {contact.name} needs approval"\n'
        "end\n"
    )
    assert graph is not None, [d.headline() for d in diagnostics]
    unknown = compile_text(
        'rule "r"\nwhen stage entered "quote"\nthen\n'
        '  escalate to teammate "wanjikuu" because "x"\nend\n'
    )[1]
    assert [(d.code, d.message) for d in unknown] == [("E107", "unknown teammate 'wanjikuu'")]
    team = compile_text(
        'rule "r"\nwhen stage entered "quote"\nthen\n  escalate to team "sales" because "x"\nend\n'
    )[1]
    assert [d.code for d in team] == ["E128"]
    state = State(
        conversation=ConversationState(id=1, pipeline="sales", stage="inquiry"),
        contact=ContactState(id=1, name="Baraka"),
        roster=Roster((Member("wanjiku"),)),
    )
    event = DomainEvent("stage_entered", "e1", NOW, "quote", {"pipeline": "sales"})
    [rule] = match(graph, event, snapshot(state), NOW).rules
    [effect] = actions(graph, rule, event, lambda: roots(event, snapshot(state)), NOW)
    assert effect == fx.Escalate(
        "big orders",
        recipient=fx.Recipient("teammate", "wanjiku"),
        reason="Quote for Baraka needs approval",
    )
