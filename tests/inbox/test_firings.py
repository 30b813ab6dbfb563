"""Rule firings in the conversation's history: which rule, set off by what, doing what."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.core.rules import effects as fx
from engine.inbox.firings import describe_firing
from engine.models import RuleFiring
from tests.inbox.seed import NOW


def firing(event: str, *effects: fx.Effect, outcome: str = "fired") -> RuleFiring:
    return RuleFiring(
        rule_name="welcome",
        trigger_key="c1:x",
        outcome=outcome,
        detail={"event": event, "actions": [fx.effect_to_json(e) for e in effects]},
        fired_at=NOW,
    )


def test_a_firing_names_its_cause_and_each_action() -> None:
    due: datetime = NOW + timedelta(hours=2)
    text = describe_firing(
        firing(
            "message_received",
            fx.SendTemplate(rule="welcome", template="hello_new_customer", language="en"),
            fx.AddTag(rule="welcome", tag="lead"),
            fx.Assign(rule="welcome", team="sales"),
            fx.Notify(rule="welcome", recipient=fx.Recipient(kind="owner", name=None), text="x"),
            fx.ScheduleDelayed(rule="welcome", block=1, due_at=due),
        )
    )
    assert text == (
        "ran on a customer message: send template hello_new_customer, add tag lead, "
        f"assign sales, notify the owner, wait until {due.isoformat()}"
    )


def test_a_stopped_rule_and_an_older_firing_without_actions_still_read_well() -> None:
    assert describe_firing(firing("stage_entered", outcome="stopped")).startswith(
        "was stopped on a stage being entered"
    )
    assert describe_firing(firing("sla_breached")) == "ran on an SLA breach"
