"""Reply buttons from the reply box in Chromium: only the fields of the kind chosen show,
a fourth button is refused with the reason, and buttons go out through the outbox to
WhatsApp as an interactive message while the page shows them as choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.test_inbox_in_chromium import sign_in
from tests.browser.test_media import Worker


def test_reply_buttons_are_sent_from_the_reply_box(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Button Customer", owner="agent", last_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    page = browser.new_page()
    sign_in(page, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")

    page.click("#rich-send summary")
    form = page.locator("form.rich-form")
    expect(form.locator("[data-kinds='location']")).to_be_hidden()
    expect(form.locator("#rich-choices")).to_be_visible()
    page.select_option("#rich-kind", "location")
    expect(form.locator("input[name=latitude]")).to_be_visible()
    expect(form.locator("#rich-choices")).to_be_hidden()
    page.select_option("#rich-kind", "buttons")

    form.locator("#rich-body").fill("Shall we deliver today?")
    form.locator("#rich-choices").fill("Yes\nTomorrow\nPick up\nNever")
    form.locator("button[type=submit]").click()
    expect(page.locator(".error, [role=alert]").first).to_contain_text("1 to 3 reply buttons")

    page.click("#rich-send summary")
    form = page.locator("form.rich-form")
    page.select_option("#rich-kind", "buttons")
    form.locator("#rich-body").fill("Shall we deliver today?")
    form.locator("#rich-choices").fill("Yes\nTomorrow\nPick up")
    form.locator("button[type=submit]").click()
    sent = page.locator(".timeline li.outbound").last
    expect(sent).to_contain_text("Shall we deliver today?")
    expect(sent.locator(".rich-choices .choice")).to_have_text(["Yes", "Tomorrow", "Pick up"])

    worker = Worker(server.world)
    worker.run_pending(conversation)
    [request] = [s.body for s in worker.whatsapp.sent]
    assert request["type"] == "interactive"
    buttons = request["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Yes", "Tomorrow", "Pick up"]
    expect(sent.locator(".ticks")).to_have_attribute("data-state", "accepted", timeout=10_000)
