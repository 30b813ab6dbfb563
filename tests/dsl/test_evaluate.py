"""evaluate(): events meet only their rules, conditions decide, effects come back as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.core.rules import (
    AddTag,
    Assign,
    CreateTask,
    MoveStage,
    Recipient,
    RequestPayment,
    ScheduleDelayed,
    SendTemplate,
    SetField,
    evaluate,
    resume,
)
from tests.dsl.helpers import MONDAY_MORNING, event, graph_of, snapshot

RULES = """\
rule "Price question moves to quote"
when message received
if conversation.stage is "inquiry" and message.text contains any of ["price", "bei", "how much"]
then
  move to stage "quote"
  assign to team "sales"
  tag "price-asked"
end

rule "Quote follow-up"
when stage entered "quote"
then
  send template "quote_sent"
after 48h unless customer replied or stage changed
  send template "quote_reminder"
after 1 business day unless stage changed
  create task "Call {contact.first_name} about KES {order.amount}" for owner due in 2h
end

rule "Big orders are urgent"
when payment confirmed
if payment.amount >= 50000 and not contact.vip
then
  set conversation.priority to "urgent"
  request payment of payment.expected_amount via "mpesa"
end
"""

GRAPH = graph_of(RULES)


def test_only_rules_of_the_event_trigger_are_tried() -> None:
    result = evaluate(
        GRAPH,
        event("message_received", message={"text": "Hi"}),
        snapshot(),
        MONDAY_MORNING,
        trace=True,
    )
    assert result.effects == ()
    assert result.trace is not None
    assert [t.rule for t in result.trace] == ["Price question moves to quote"]
    assert result.trace[0].failed == 'message.text contains any of ["price", "bei", "how much"]'


def test_keywords_match_whole_words_case_insensitively() -> None:
    hit = evaluate(
        GRAPH, event("message_received", message={"text": "BEI gani?"}), snapshot(), MONDAY_MORNING
    )
    assert hit.effects == (
        MoveStage("Price question moves to quote", pipeline="sales", stage="quote"),
        Assign("Price question moves to quote", team="sales"),
        AddTag("Price question moves to quote", tag="price-asked"),
    )
    miss = evaluate(
        GRAPH, event("message_received", message={"text": "beige sofa"}), snapshot(), MONDAY_MORNING
    )
    assert miss.effects == ()


def test_stage_entered_sends_now_and_schedules_the_rest() -> None:
    state = snapshot(
        {"stage": "quote", "owner": "otieno"}, {"first_name": "Amina"}, order={"amount": 4500}
    )
    result = evaluate(GRAPH, event("stage_entered", "quote"), state, MONDAY_MORNING)
    send, reminder, task = result.effects
    assert send == SendTemplate("Quote follow-up", "quote_sent", "en", ("Amina", "4500"))
    assert isinstance(reminder, ScheduleDelayed) and isinstance(task, ScheduleDelayed)
    assert reminder.due_at == MONDAY_MORNING + timedelta(hours=48)
    assert task.due_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # the next open day, same hour
    assert reminder.stage == "quote"
    other_stage = evaluate(GRAPH, event("stage_entered", "payment"), state, MONDAY_MORNING)
    assert other_stage.effects == ()


def test_resume_rechecks_the_guard() -> None:
    state = snapshot(
        {"stage": "quote", "owner": "otieno"}, {"first_name": "Amina"}, order={"amount": 4500}
    )
    _, reminder, task = evaluate(
        GRAPH, event("stage_entered", "quote"), state, MONDAY_MORNING
    ).effects
    assert isinstance(reminder, ScheduleDelayed) and isinstance(task, ScheduleDelayed)
    later = MONDAY_MORNING + timedelta(hours=48)
    fired = resume(GRAPH, reminder, state, later)
    assert fired.effects == (SendTemplate("Quote follow-up", "quote_reminder", "en", ()),)
    replied = snapshot(
        {
            "stage": "quote",
            "last_inbound_at": (MONDAY_MORNING + timedelta(hours=1)).isoformat(),
        }
    )
    assert resume(GRAPH, reminder, replied, later).effects == ()
    moved = snapshot({"stage": "payment"})
    assert resume(GRAPH, reminder, moved, later).effects == ()
    (created,) = resume(GRAPH, task, state, later).effects
    assert created == CreateTask(
        "Quote follow-up",
        title="Call Amina about KES 4500",
        assignee=Recipient("owner", "otieno"),
        due_at=later + timedelta(hours=2),
    )


def test_values_are_coerced_and_missing_fields_do_not_fire() -> None:
    confirmed = event("payment_confirmed", payment={"amount": "60,000", "expected_amount": 60000})
    result = evaluate(GRAPH, confirmed, snapshot(contact={"vip": False}), MONDAY_MORNING)
    assert result.effects == (
        SetField("Big orders are urgent", owner="conversation", field="priority", value="urgent"),
        RequestPayment("Big orders are urgent", amount=60000.0, provider="mpesa"),
    )
    for payment in ({}, {"amount": None}, {"amount": "lots"}, {"amount": True}, {"amount": [1]}):
        odd = event("payment_confirmed", payment=payment)
        assert evaluate(GRAPH, odd, snapshot(), MONDAY_MORNING).effects == ()


def test_a_rule_does_not_retrigger_itself() -> None:
    graph = graph_of('rule "Echo" when tag added "vip" then tag "vip" end')
    own = event("tag_added", "vip")
    assert len(evaluate(graph, own, snapshot(), MONDAY_MORNING).effects) == 1
    caused = type(own)(own.kind, own.id, own.occurred_at, own.key, own.data, caused_by="Echo")
    assert evaluate(graph, caused, snapshot(), MONDAY_MORNING).effects == ()
