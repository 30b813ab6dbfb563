"""Rules and people send buttons and lists through the pure reducer: an intent inside the
24-hour window; outside it a rule leaves a task and a person is told why; WhatsApp's limits
refuse a person's send with the reason. A button reply reads back as `message.button`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from engine.core.rich import OUTSIDE_WINDOW_RICH, Choice, RichMessage, Section
from engine.core.rules import DomainEvent
from engine.core.rules import effects as fx
from engine.core.states import ActorKind
from engine.core.step import (
    Actor,
    Command,
    ContactState,
    ConversationState,
    SendRich,
    State,
    TaskCreated,
    step,
)
from tests.dsl.helpers import graph_of

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RULES = """
rule "Offer delivery slots" when message received
if message.text contains "deliver"
then
    send buttons "When shall we deliver, {contact.name}?" ["Today", "Tomorrow", "Pick up"]
end

rule "Sizes" when message received
if message.text contains "size"
then
    send list "Which size?" button "Sizes" section "Small" ["S", "M"] section "Big" ["L", "XL"]
end

rule "Offer on tag" when tag added "offer"
then
    send buttons "Still interested?" ["Yes", "No"]
end

rule "Tomorrow chosen" when message received
if message.button == "Tomorrow"
then
    tag "deliver-tomorrow"
end
"""
GRAPH = graph_of(RULES)
PERSON = Actor(ActorKind.TEAMMATE, "faith", 7)


def _state(last_inbound: datetime | None = NOW) -> State:
    return State(
        ConversationState(id=1, last_inbound_at=last_inbound),
        ContactState(id=1, name="Achieng"),
    )


def _says(text: str, **message: str) -> DomainEvent:
    return DomainEvent(
        "message_received", f"m-{text}", NOW, data={"message": {"text": text, **message}}
    )


def test_a_rule_sends_reply_buttons_with_the_text_filled_in() -> None:
    outcome = step(_state(), _says("Can you deliver?"), GRAPH, NOW)
    [intent] = outcome.intents
    assert isinstance(intent, SendRich)
    assert intent.message.kind == "buttons"
    assert intent.message.body == "When shall we deliver, Achieng?"
    assert [b.title for b in intent.message.buttons] == ["Today", "Tomorrow", "Pick up"]
    assert intent.actor.is_rule
    assert outcome.state.conversation.waiting_on == "customer"


def test_a_rule_sends_a_list_with_its_sections() -> None:
    [intent] = step(_state(), _says("what size?"), GRAPH, NOW).intents
    assert isinstance(intent, SendRich)
    assert intent.message.list_button == "Sizes"
    assert [(s.title, [r.title for r in s.rows]) for s in intent.message.sections] == [
        ("Small", ["S", "M"]),
        ("Big", ["L", "XL"]),
    ]


def test_outside_the_window_a_rule_leaves_a_task_instead_of_sending() -> None:
    tag = Command("t1", PERSON, (fx.AddTag("", tag="offer"),), NOW)
    outcome = step(_state(NOW - timedelta(hours=25)), tag, GRAPH, NOW)
    assert outcome.ok and outcome.intents == ()
    [task] = [c for c in outcome.changes if isinstance(c, TaskCreated)]
    assert task.title.startswith("Send with a template (24-hour window closed): Still")
    # Inside the window the same rule sends.
    assert len(step(_state(NOW - timedelta(hours=2)), tag, GRAPH, NOW).intents) == 1


def test_a_tapped_button_is_a_trigger_with_its_title() -> None:
    tapped = _says("Tomorrow", type="interactive", button="Tomorrow")
    outcome = step(_state(), tapped, GRAPH, NOW)
    assert "deliver-tomorrow" in outcome.state.conversation.tags


def _person_sends(message: RichMessage, state: State | None = None):  # type: ignore[no-untyped-def]
    command = Command("c1", PERSON, (fx.SendRich("", message=message),), NOW)
    return step(state or _state(), command, GRAPH, NOW)


def test_a_person_is_refused_outside_the_window_with_the_reason() -> None:
    yes_no = RichMessage("buttons", "Deliver today?", buttons=(Choice("Yes"), Choice("No")))
    outcome = _person_sends(yes_no, _state(NOW - timedelta(hours=30)))
    assert outcome.refused is not None and outcome.refused.reason == OUTSIDE_WINDOW_RICH
    assert outcome.intents == ()
    inside = _person_sends(yes_no)
    assert inside.ok and len(inside.intents) == 1
    # A teammate's send is a reply the response clocks wait for.
    assert inside.state.conversation.first_reply_at == NOW


def test_a_person_is_refused_when_a_limit_is_broken() -> None:
    cases = {
        "1 to 3 reply buttons": RichMessage(
            "buttons", "Pick", buttons=tuple(Choice(t) for t in ("A", "B", "C", "D"))
        ),
        "longer than 20 characters": RichMessage(
            "buttons", "Pick", buttons=(Choice("A title far too long to show"),)
        ),
        "two buttons say 'A'": RichMessage("buttons", "Pick", buttons=(Choice("A"), Choice("A"))),
        "1 to 10 rows": RichMessage(
            "list",
            "Pick",
            list_button="Go",
            sections=(Section("", tuple(Choice(str(n)) for n in range(11))),),
        ),
        "needs a phone number": RichMessage("contact", contact_name="Faith", contact_phone="12"),
        "latitude goes from -90 to 90": RichMessage("location", latitude=91.0, longitude=0.0),
    }
    for reason, message in cases.items():
        outcome = _person_sends(message)
        assert outcome.refused is not None and reason in outcome.refused.reason, reason
        assert outcome.intents == ()


def test_a_reaction_does_not_count_as_a_reply() -> None:
    outcome = _person_sends(RichMessage("reaction", emoji="👍", react_to=5))
    assert outcome.ok and len(outcome.intents) == 1
    assert outcome.state.conversation.first_reply_at is None
    assert replace(outcome.state.conversation) == outcome.state.conversation
