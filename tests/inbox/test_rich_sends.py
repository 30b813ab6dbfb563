"""Buttons, lists, locations, contact cards and reactions from the reply box and the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.auth import Role
from engine.db import workspace_session
from engine.models import Message, MessageReaction, OutboxRow
from tests.inbox.seed import NOW
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def _outbound(web: Web, conversation_id: int) -> list[Message]:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
        )


def test_reply_buttons_from_the_reply_box_are_queued_and_shown_as_choices(web: Web) -> None:
    conversation = web.world.conversation("Achieng", owner="agent")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f'action="/inbox/c/{conversation}/rich"' in page
    sent = web.post(
        f"/inbox/c/{conversation}/rich",
        {"kind": "buttons", "body": "Deliver today?", "choices": "Yes\nTomorrow\n"},
    )
    assert sent.status_code == 303, sent.text
    [message] = _outbound(web, conversation)
    assert (message.type, message.delivery_state) == ("interactive", "queued")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.conversation_id == conversation))
        payload = next(r.payload for r in row if r.payload.get("type") == "buttons")
    assert payload["buttons"] == [["Yes", "Yes"], ["Tomorrow", "Tomorrow"]]
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert '<span class="choice">Yes</span><span class="choice">Tomorrow</span>' in page


def test_the_reply_box_refuses_with_the_reason(web: Web) -> None:
    conversation = web.world.conversation("Baraka", owner="agent")
    web.sign_in("agent")
    four = web.post(
        f"/inbox/c/{conversation}/rich",
        {"kind": "buttons", "body": "Pick", "choices": "A\nB\nC\nD"},
    )
    assert four.status_code == 400 and "1 to 3 reply buttons" in four.text
    closed = web.world.conversation("Wanjiku", owner="agent", last_at=NOW - timedelta(hours=30))
    late = web.post(
        f"/inbox/c/{closed}/rich", {"kind": "location", "latitude": "-1.28", "longitude": "36.8"}
    )
    assert late.status_code == 409 and "within 24 hours" in late.text
    assert _outbound(web, conversation) == [] and _outbound(web, closed) == []


def test_the_api_sends_a_list_a_location_a_contact_and_a_reaction(web: Web) -> None:
    conversation = web.world.conversation("Otieno")
    manager = bearer(web.world, Role.MANAGER)
    url = f"/api/v1/conversations/{conversation}/rich"
    bodies = [
        {
            "kind": "list",
            "body": "Pick a slot",
            "button": "Slots",
            "sections": [{"title": "Tuesday", "rows": [{"title": "09:00", "id": "tue-9"}]}],
        },
        {
            "kind": "location",
            "latitude": -1.2841,
            "longitude": 36.8233,
            "name": "Duka Bora",
            "confirmed": True,
        },
        {"kind": "contact", "name": "Faith Njeri", "phone": "+254711502301", "confirmed": True},
        {"kind": "reaction", "emoji": "❤️"},
    ]
    answers = [web.client.post(url, json=body, headers=manager) for body in bodies]
    assert [a.status_code for a in answers] == [201, 201, 201, 201], [a.text for a in answers]
    assert [a.json()["type"] for a in answers] == [
        "interactive",
        "location",
        "contacts",
        "reaction",
    ]
    web.sign_in("boss")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "https://www.openstreetmap.org/?mlat=-1.2841&amp;mlon=36.8233" in page
    assert '<span class="choice">09:00</span>' in page and "☰ Slots" in page
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [reaction] = session.scalars(select(MessageReaction)).all()
        target = session.get(Message, reaction.message_id)
        assert target is not None and target.direction == "inbound" and reaction.emoji == "❤️"
    too_many = web.client.post(
        url,
        json={"kind": "buttons", "body": "x", "buttons": ["a", "b", "c", "d"]},
        headers=manager,
    )
    assert too_many.status_code == 400 and "1 to 3" in too_many.json()["error"]
    unknown = web.client.post(url, json={"kind": "poll"}, headers=manager)
    assert unknown.status_code == 400
