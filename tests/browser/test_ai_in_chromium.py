"""AI on the conversation page in Chromium: the panel loads after the page, the draft lands
in the reply box with its citations, and only pressing Send sends it."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.test_composer import recent, signed_in


def test_the_panel_loads_and_a_draft_fills_the_reply_box(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Akinyi Otieno",
        owner="agent",
        last_at=recent(),
        texts=("How much is the galaxy a15? I am in Westlands",),
    )
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator("#ai-panel h2")).to_have_text("AI suggestions")
    expect(page.locator("#ai-panel .ai-source").first).to_contain_text("offline")

    page.click("#ai-draft")
    box = page.locator("#reply-body")
    expect(box).to_have_value(
        "Hi Akinyi! The Samsung Galaxy A15 is KES 18,500 each. "
        "Delivery to Westlands is KES 500, same day if paid before 3 pm."
    )
    expect(page.locator("#ai-citations")).to_contain_text("price:Samsung Galaxy A15")
    expect(page.locator("#timeline .message.outbound")).to_have_count(0)  # nothing sent yet

    box.fill(box.input_value() + " Karibu!")
    page.click("#reply button[type=submit].primary")
    expect(page.locator("#timeline")).to_contain_text("Karibu!")

    page.click("#ai-summarise")
    expect(page.locator("#ai-summary")).to_contain_text("Customer: How much is the galaxy a15?")
