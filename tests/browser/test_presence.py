"""Presence in a real browser: a colleague who opens the same conversation shows up,
and their typing shows as it happens, through the page's heartbeat and the live stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.test_inbox_in_chromium import sign_in


def test_a_colleague_viewing_then_typing_shows_live(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Akinyi Otieno",
        texts=("Is the blender in stock?",),
        last_at=datetime.now(UTC) - timedelta(minutes=2),
    )
    mine = browser.new_context().new_page()
    theirs = browser.new_context().new_page()
    sign_in(mine, server, "agent")
    sign_in(theirs, server, "other")
    mine.goto(f"{server.url}/inbox/c/{conversation}")
    expect(mine.locator("#presence")).to_have_text("")

    theirs.goto(f"{server.url}/inbox/c/{conversation}")
    expect(mine.locator("#presence")).to_have_text("Other has it open", timeout=10_000)

    theirs.click("#reply-body")
    theirs.keyboard.type("Yes, we have three left")
    expect(mine.locator("#presence")).to_have_text("Other is typing a reply", timeout=10_000)
    expect(mine.locator("#presence")).to_have_class("presence typing")
    # They see me, never themselves.
    expect(theirs.locator("#presence")).to_have_text("Agent has it open")

    # Leaving the page says so at once; nobody waits for the heartbeat to lapse.
    theirs.goto(f"{server.url}/inbox")
    expect(mine.locator("#presence")).to_have_text("", timeout=10_000)
