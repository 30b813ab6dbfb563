"""The conversation page shows WhatsApp's changes to messages (issue 15): a reaction under
its message, an edited mark, a deleted message hidden, a phone-app echo labelled."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.payloads import (
    Business,
    echo_webhook,
    edit,
    error_object,
    message_webhook,
    reaction,
    revoke,
    status_webhook,
)
from engine.db import workspace_session
from engine.inbox.contact_privacy import CONFIRMATION, erase_contact
from engine.models import Conversation, Message, MessageEdit, UnmatchedItem
from tests.applying import apply_and_step
from tests.inbox.seed import NOW
from tests.inbox.web import Web

SHOP = Business("1020", "104729384756101", "254711502300")
CUSTOMER = "254722555001"
EPOCH = int(NOW.timestamp()) - 600


def text(wamid: str, body: str, at: int) -> dict[str, Any]:
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": str(at),
        "type": "text",
        "text": {"body": body},
    }


def apply(web: Web, document: dict[str, Any]) -> None:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        for item in parse_envelope(document):
            apply_and_step(session, item, NOW)
        session.commit()


def test_reactions_edits_deletions_and_echoes_show_on_the_conversation_page(web: Web) -> None:
    def customer(message: dict[str, Any]) -> None:
        apply(web, message_webhook(SHOP, CUSTOMER, "Zawadi", message))

    customer(text("wamid.p1", "Bei ya friji?", EPOCH))
    customer(text("wamid.p2", "Namba yangu ya siri 4455", EPOCH + 10))
    customer(reaction("wamid.p3", CUSTOMER, EPOCH + 20, "wamid.p1", "🔥"))
    customer(edit("wamid.p4", CUSTOMER, EPOCH + 30, "wamid.p1", "Bei ya friji kubwa?"))
    customer(revoke("wamid.p5", CUSTOMER, EPOCH + 40, "wamid.p2"))
    echo = {"id": "wamid.p6", "timestamp": str(EPOCH + 50), "type": "text"}
    apply(web, echo_webhook(SHOP, CUSTOMER, {**echo, "text": {"body": "KES 60,000"}}))
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    assert web.sign_in("boss").status_code == 303
    page = web.client.get(f"/inbox/c/{conversation_id}").text
    first = page[page.index("Bei ya friji kubwa?") :]
    assert '<span class="reaction reactor-contact"' in first.split("</li>")[0]
    assert "🔥" in first.split("</li>")[0]
    assert "edited</span>" in page[: page.index("Bei ya friji kubwa?")].rsplit("<li", 1)[1]
    assert "Bei ya friji?" not in page  # the edit replaced the text on the page
    assert "4455" not in page  # deleted: hidden, though kept in the database
    assert "This message was deleted by the customer." in page
    assert "Sent from the phone app" in page and "KES 60,000" in page


def test_updates_about_unknown_messages_are_listed_on_the_failures_page(web: Web) -> None:
    apply(
        web,
        status_webhook(
            SHOP,
            wamid="wamid.sent-elsewhere",
            status="delivered",
            recipient=CUSTOMER,
            timestamp=EPOCH,
            callback_data=None,
            category="service",
        ),
    )
    web.sign_in("manager")
    page = web.client.get("/failures").text
    assert "WhatsApp updates about messages Kazi does not have" in page
    assert "wamid.sent-elsewhere" in page and "delivered" in page and "waiting" in page


def test_a_131047_refusal_closes_the_window_on_the_page_at_once(web: Web) -> None:
    apply(web, message_webhook(SHOP, CUSTOMER, "Zawadi", text("wamid.w1", "Habari", EPOCH)))
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
        session.add(
            Message(
                conversation_id=conversation_id,
                direction="outbound",
                type="text",
                body="Karibu tena",
                provider_message_id="wamid.w2",
                author_kind="teammate",
                delivery_state="accepted",
                provider_timestamp=NOW,
            )
        )
        session.commit()
    assert web.sign_in("boss").status_code == 303
    assert "The 24-hour window is closed" not in web.client.get(f"/inbox/c/{conversation_id}").text
    failure = error_object(131047, "Re-engagement message", "More than 24 hours have passed")
    apply(
        web,
        status_webhook(
            SHOP,
            wamid="wamid.w2",
            status="failed",
            recipient=CUSTOMER,
            timestamp=EPOCH + 60,
            callback_data=None,
            category="service",
            errors=[failure],
        ),
    )
    assert "The 24-hour window is closed" in web.client.get(f"/inbox/c/{conversation_id}").text


def test_erasing_a_contact_removes_their_edit_history_and_kept_updates(web: Web) -> None:
    apply(
        web, message_webhook(SHOP, CUSTOMER, "Zawadi", text("wamid.z1", "Siri yangu 9911", EPOCH))
    )
    apply(
        web,
        message_webhook(
            SHOP, CUSTOMER, "Zawadi", edit("wamid.z2", CUSTOMER, EPOCH + 5, "wamid.z1", "sawa")
        ),
    )
    apply(
        web,
        message_webhook(
            SHOP, CUSTOMER, "Zawadi", reaction("wamid.z3", CUSTOMER, EPOCH + 9, "wamid.gone", "👍")
        ),
    )
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        contact_id = session.scalars(select(Conversation.contact_id)).one()
        erase_contact(session, web.world.principal("boss"), contact_id, CONFIRMATION, NOW)
        session.commit()
        assert session.scalars(select(MessageEdit)).all() == []
        [kept] = session.scalars(select(UnmatchedItem)).all()
        assert CUSTOMER not in json.dumps(kept.payload)
