"""Two agents race to claim in two browsers; outside the window the template picker is the
way to answer; notes, stage moves and transfers work without leaving the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.inbox.seed import PASSWORD


def signed_in(browser: Browser, server: Server, handle: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login?workspace={server.world.slug}")
    page.fill("input[name=login]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/inbox")
    return page


def test_two_agents_race_to_claim_and_one_is_told(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Race Customer", last_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    first, second = signed_in(browser, server, "agent"), signed_in(browser, server, "other")
    for page in (first, second):
        page.goto(f"{server.url}/inbox/c/{conversation}")
        expect(page.locator("#claim")).to_be_visible()
    first.click("#claim")
    expect(first.locator(".owner")).to_contain_text("Agent")
    second.click("#claim")  # this page still shows the button it loaded with
    expect(second.locator(".error")).to_contain_text("Agent already owns this conversation")


def test_template_note_stage_and_transfer_in_the_page(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Late Customer", owner="agent", last_at=datetime.now(UTC) - timedelta(hours=26)
    )
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator(".window.closed")).to_contain_text("24-hour window is closed")
    expect(page.locator("#reply-body")).to_have_count(0)

    page.click("summary:has-text('we_are_open')")
    form = page.locator("form.template-form:has(input[value='we_are_open:en'])")
    form.locator("input[name=param_1]").fill("Late")
    expect(form.locator(".preview")).to_have_text(
        "Good morning Late, we are open and a salesperson will answer your message shortly."
    )
    form.locator("button[type=submit]").click()
    expect(page.locator(".timeline li.outbound").last).to_contain_text("Good morning Late")

    page.fill("#note-body", "Called them, will pay tonight")
    page.click("#note button[type=submit]")
    expect(page.locator(".timeline li.note").last).to_contain_text("Called them, will pay tonight")

    page.select_option("#stage", "inquiry")
    page.click("form[action$='/stage'] button[type=submit]")
    expect(page.locator(".timeline li.event").last).to_contain_text("start → inquiry")

    page.select_option("#assignee", label="Other")
    page.fill("input[name=note][placeholder^='Note for them']", "Please follow up tomorrow")
    page.click("form[action$='/assign'] button[type=submit]")
    expect(page.locator(".owner")).to_contain_text("Other")
    expect(page.locator(".timeline")).to_contain_text("Agent assigned the conversation to Other")
    expect(page.locator("#reply")).to_contain_text("Other owns this conversation")


def test_keyboard_next_conversation_and_reply(server: Server, browser: Browser) -> None:
    waiting = server.world.conversation(
        "Keyboard Customer", last_at=datetime.now(UTC) - timedelta(days=20, minutes=1)
    )
    page = signed_in(browser, server, "kevin")
    page.keyboard.press("j")  # next: the longest-waiting conversation in my queue or unassigned
    expect(page).to_have_url(f"{server.url}/inbox/c/{waiting}")
    page.keyboard.press("c")  # claim
    expect(page.locator(".owner")).to_contain_text("Kevin")
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
