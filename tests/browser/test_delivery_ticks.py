"""Delivery ticks in a real browser: a reply goes out through the outbox, and WhatsApp's
delivered and read statuses move its tick on the open page without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from connectors.whatsapp.parse import parse_envelope
from engine.db import unit_of_work, workspace_session
from engine.models import Conversation, Identity, Message
from tests.applying import apply_and_step
from tests.browser.conftest import Server
from tests.browser.test_inbox_in_chromium import sign_in
from tests.browser.test_media import Worker
from tests.whatsapp.payloads import status_webhook


def whatsapp_reports(server: Server, wamid: str, status: str, recipient: str) -> None:
    """What a worker does with a status webhook, as another process would."""
    document = status_webhook(
        {
            "id": wamid,
            "status": status,
            "timestamp": str(int(datetime.now(UTC).timestamp())),
            "recipient_id": recipient,
        }
    )
    with unit_of_work(server.world.db, server.world.workspace_id) as session:
        for item in parse_envelope(document):
            apply_and_step(session, item, datetime.now(UTC))


def test_the_tick_moves_to_delivered_then_read_while_the_page_is_open(
    server: Server, browser: Browser
) -> None:
    conversation = server.world.conversation(
        "Tick Watcher", owner="agent", last_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    page = browser.new_page()
    sign_in(page, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    page.fill("#reply-body", "Your order is on its way")
    page.click("#reply button[type=submit]")
    ticks = page.locator(".timeline li.outbound").last.locator(".ticks")
    expect(ticks).to_have_attribute("data-state", "queued")

    Worker(server.world).run_pending(conversation)
    with workspace_session(server.world.db, server.world.workspace_id) as session:
        wamid, recipient = session.execute(
            select(Message.provider_message_id, Identity.address)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Identity, Identity.contact_id == Conversation.contact_id)
            .where(Message.conversation_id == conversation, Message.direction == "outbound")
            .order_by(Message.id.desc())
        ).first() or (None, None)
    assert wamid, "the reply was not accepted by WhatsApp"
    expect(ticks).to_have_attribute("data-state", "accepted", timeout=10_000)

    whatsapp_reports(server, wamid, "delivered", recipient)
    expect(ticks).to_have_attribute("data-state", "delivered", timeout=10_000)
    whatsapp_reports(server, wamid, "read", recipient)
    expect(ticks).to_have_attribute("data-state", "read", timeout=10_000)
