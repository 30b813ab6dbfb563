"""Lists, locations, contact cards and reactions through the outbox: the exact request
bodies, the 24-hour window checked when queued and again when sent, WhatsApp's limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.events import ButtonContent, InteractiveReplyContent
from engine.conversations.messages import message_view
from engine.core.rich import Choice, RichMessage, Section
from engine.db import workspace_session
from engine.models import Message, MessageReaction
from engine.outbox.sends import OutsideWindow, queue_rich
from engine.whatsapp.content import stored_content
from tests.whatsapp_engine.test_outbound import START, Harness, customer_writes


@pytest.fixture()
def harness(db: Engine, workspace_id: int) -> Harness:
    return Harness(db, workspace_id)


def _queue(harness: Harness, conversation_id: int, message: RichMessage) -> int:
    with workspace_session(harness.db, harness.workspace_id) as session:
        queued = queue_rich(
            session,
            conversation_id=conversation_id,
            message=message,
            author_teammate_id=None,
            now=harness.clock.now(),
        )
        session.commit()
        return queued.id


def test_a_list_a_location_and_a_contact_card_go_out_as_whatsapp_expects(
    harness: Harness,
) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000201", START)
    slots = RichMessage(
        "list",
        "Pick a delivery slot",
        list_button="Slots",
        sections=(
            Section("Tuesday", (Choice("09:00", "tue-9", "Morning rider"), Choice("14:00"))),
            Section("Wednesday", (Choice("10:00"),)),
        ),
    )
    shop = RichMessage(
        "location", latitude=-1.2841, longitude=36.8233, place="Duka Bora", address="Moi Ave"
    )
    card = RichMessage("contact", contact_name="Faith Njeri", contact_phone="+254 711 502 301")
    ids = [_queue(harness, conversation_id, m) for m in (slots, shop, card)]
    assert [harness.run_row(i).state for i in ids] == ["done", "done", "done"]
    listed, located, contact = (sent.body for sent in harness.sender.sent)

    assert listed["type"] == "interactive"
    action = listed["interactive"]["action"]
    assert action["button"] == "Slots"
    assert action["sections"][0] == {
        "title": "Tuesday",
        "rows": [
            {"id": "tue-9", "title": "09:00", "description": "Morning rider"},
            {"id": "14:00", "title": "14:00"},
        ],
    }
    assert located["type"] == "location"
    assert located["location"] == {
        "latitude": -1.2841,
        "longitude": 36.8233,
        "name": "Duka Bora",
        "address": "Moi Ave",
    }
    assert contact["type"] == "contacts"
    [person] = contact["contacts"]
    assert person["name"]["formatted_name"] == "Faith Njeri"
    assert person["phones"] == [
        {"phone": "+254 711 502 301", "type": "CELL", "wa_id": "254711502301"}
    ]
    messages = [harness.message(i) for i in ids]
    assert [m.type for m in messages] == ["interactive", "location", "contacts"]
    assert messages[0].body.startswith("Pick a delivery slot\n[Slots] Tuesday: 09:00, 14:00")
    assert all(m.delivery_state == "accepted" for m in messages)


def test_a_reaction_goes_to_the_customers_message_and_shows_on_it(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000202", START)
    with workspace_session(harness.db, harness.workspace_id) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).one()
        target_id, wamid = inbound.id, inbound.provider_message_id
    sent = _queue(harness, conversation_id, RichMessage("reaction", emoji="👍", react_to=target_id))
    assert harness.run_row(sent).state == "done"
    [reaction] = harness.sender.sent
    assert reaction.body["reaction"] == {"message_id": wamid, "emoji": "👍"}
    with workspace_session(harness.db, harness.workspace_id) as session:
        shown = session.scalars(select(MessageReaction)).one()
        assert (shown.message_id, shown.reactor, shown.emoji) == (target_id, "business", "👍")


def test_outside_the_window_nothing_rich_is_queued_and_a_late_row_fails(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000203", START)
    buttons = RichMessage("buttons", "Deliver today?", buttons=(Choice("Yes"), Choice("No")))
    queued = _queue(harness, conversation_id, buttons)
    # The window closes before the worker gets to it: the executor re-checks and refuses.
    harness.clock.advance(timedelta(hours=25))
    assert harness.run_row(queued).state == "failed"
    assert harness.message(queued).delivery_state == "failed"
    assert harness.message(queued).failure_code == "131047"
    assert harness.sender.sent == []
    with pytest.raises(OutsideWindow, match="within 24 hours"):
        _queue(harness, conversation_id, buttons)


def test_limits_are_refused_before_anything_is_queued(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000204", START)
    four = RichMessage("buttons", "Pick", buttons=tuple(Choice(t) for t in "ABCD"))
    with pytest.raises(ValueError, match="1 to 3 reply buttons"):
        _queue(harness, conversation_id, four)
    eleven = RichMessage(
        "list",
        "Pick",
        list_button="Go",
        sections=(Section("", tuple(Choice(str(n)) for n in range(11))),),
    )
    with pytest.raises(ValueError, match="1 to 10 rows"):
        _queue(harness, conversation_id, eleven)
    with workspace_session(harness.db, harness.workspace_id) as session:
        assert session.scalars(select(Message).where(Message.direction == "outbound")).all() == []


def test_a_tapped_button_keeps_its_id_for_rules_as_message_payload() -> None:
    tapped = stored_content(
        "interactive",
        InteractiveReplyContent(reply_type="button_reply", reply_id="yes:bk-1", title="Yes"),
    )
    assert (tapped.body, tapped.media) == ("Yes", {"payload": "yes:bk-1"})
    message = Message(type="interactive", body=tapped.body, media=tapped.media)
    seen = message_view(message)
    assert (seen["button"], seen["payload"]) == ("Yes", "yes:bk-1")
    quick_reply = stored_content("button", ButtonContent("confirm:order-9", "Confirm"))
    assert (
        message_view(Message(type="button", body=quick_reply.body, media=quick_reply.media))[
            "payload"
        ]
        == "confirm:order-9"
    )
    assert message_view(Message(type="text", body="Yes"))["payload"] is None
