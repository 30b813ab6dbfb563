"""Quick replies: filled on the server per conversation and agent, offered only in the window."""

from __future__ import annotations

import html
from datetime import timedelta

from engine.auth import Role
from engine.core.config import QuickReply
from engine.db import workspace_session
from engine.inbox.quick_replies import WINDOW_CLOSED, fill, offer
from engine.models import Contact, Conversation
from tests.inbox.seed import NOW, World, make_world
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

VALUES = {"contact.first_name": "Amina", "contact.name": "Amina Njeri", "agent.first_name": "Faith"}
REPLIES = (
    QuickReply("/price", "Price", "Hi {{contact.first_name}}, {{ agent.first_name }} here", "en"),
    QuickReply("/price", "Bei", "Habari {{contact.first_name}}", "sw"),
    QuickReply("/hours", "Hours", "Open 9-5, {{contact.name}}."),
)


def test_fill_replaces_each_variable_once_and_never_twice() -> None:
    assert (
        fill("Hi {{contact.first_name}} / {{ contact.name }}", VALUES) == "Hi Amina / Amina Njeri"
    )
    sneaky = {**VALUES, "contact.first_name": "{{agent.first_name}}"}
    assert fill("Hi {{contact.first_name}}", sneaky) == "Hi {{agent.first_name}}"
    assert fill("Hi {{contact.first_name}}", {**VALUES, "contact.first_name": ""}) == "Hi "
    assert fill("{{order.amount}} stays", VALUES) == "{{order.amount}} stays"


def test_offer_lists_the_customers_language_first() -> None:
    offered = offer(REPLIES, VALUES, contact_language="sw", window_open=True, may_reply=True)
    assert offered.available and offered.reason is None
    assert [(r.shortcut, r.language) for r in offered.replies] == [
        ("/price", "sw"),
        ("/hours", None),
        ("/price", "en"),
    ]
    assert offered.replies[2].text == "Hi Amina, Faith here"
    unknown = offer(REPLIES, VALUES, contact_language=None, window_open=True, may_reply=True)
    assert [r.shortcut for r in unknown.replies] == ["/hours", "/price", "/price"]


def test_nothing_is_offered_outside_the_window_or_to_someone_who_may_not_reply() -> None:
    closed = offer(REPLIES, VALUES, contact_language=None, window_open=False, may_reply=True)
    assert (closed.available, closed.reason, closed.replies) == (False, WINDOW_CLOSED, ())
    assert "24-hour window" in WINDOW_CLOSED
    barred = offer(REPLIES, VALUES, contact_language=None, window_open=True, may_reply=False)
    assert not barred.available and barred.replies == () and barred.reason


def _name(world: World, conversation: int, name: str, language: str | None = None) -> None:
    with workspace_session(world.db, world.workspace_id) as session:
        row = session.get(Conversation, conversation)
        assert row is not None
        contact = session.get(Contact, row.contact_id)
        assert contact is not None
        contact.name = name
        contact.language = language
        session.commit()


def test_the_page_offers_filled_replies_escaped_beside_the_reply_box(web: Web) -> None:
    conversation = web.world.conversation("x", owner="agent")
    _name(web.world, conversation, '<b>Wanjiku</b> "Shiru" Kamau', "sw")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert 'id="quick-reply"' in page and 'id="quick-suggest"' in page
    assert "<b>Wanjiku</b>" not in page
    expected = "Habari &lt;b&gt;Wanjiku&lt;/b&gt;, asante kwa kuuliza!"
    assert expected in page
    # The customer's language first: the Swahili /price is the first option.
    first = page.index('data-shortcut="/price"')
    assert page.index("Habari &lt;b&gt;") > first and page.index("Hi &lt;b&gt;") > first
    assert "— Agent, Duka Bora Electronics" in html.unescape(page)
    assert "{{" not in page.split('id="quick-reply"')[1].split("</select>")[0]


def test_outside_the_window_the_page_says_why_there_are_no_quick_replies(web: Web) -> None:
    conversation = web.world.conversation("Late", owner="agent", last_at=NOW - timedelta(days=2))
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert 'id="quick-reply"' not in page
    assert "Quick replies are free text, so they are not offered" in page


def test_the_api_lists_filled_replies_and_says_why_when_there_are_none(web: Web) -> None:
    open_one = web.world.conversation("x", owner="agent")
    _name(web.world, open_one, "Otieno Odhiambo")
    closed = web.world.conversation("Late", last_at=NOW - timedelta(days=2))
    headers = bearer(web.world, Role.MANAGER)
    body = web.client.get(f"/api/v1/conversations/{open_one}/quick-replies", headers=headers).json()
    assert body["available"] is True and body["reason"] is None
    hours = next(r for r in body["replies"] if r["shortcut"] == "/hours")
    assert hours["text"].endswith("Karibu Otieno!")
    price = next(r for r in body["replies"] if r["shortcut"] == "/price" and r["language"] == "en")
    assert price["text"].startswith("Hi Otieno,") and "— , Duka Bora" in price["text"]  # a token
    shut = web.client.get(f"/api/v1/conversations/{closed}/quick-replies", headers=headers)
    assert shut.status_code == 200
    assert shut.json() == {"available": False, "reason": WINDOW_CLOSED, "replies": []}

    elsewhere = make_world(web.world.db)
    foreign = web.client.get(
        f"/api/v1/conversations/{open_one}/quick-replies", headers=bearer(elsewhere, Role.ADMIN)
    )
    assert foreign.status_code == 404 and "error" in foreign.json()
