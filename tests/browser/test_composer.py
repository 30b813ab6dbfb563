"""The composer in Chromium: @mentions reach a teammate's badge, quick replies go into the
reply box and out, keyboard shortcuts, and the conversation page at phone width."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.inbox.seed import PASSWORD


def signed_in(browser: Browser, server: Server, handle: str, **context: object) -> Page:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.goto(f"{server.url}/login?workspace={server.world.slug}")
    page.fill("input[name=login]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/inbox")
    return page


def recent(minutes: int = 3) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def test_a_mention_in_a_note_counts_on_the_teammates_badge(
    server: Server, browser: Browser
) -> None:
    conversation = server.world.conversation("Mention Customer", last_at=recent())
    kevin = signed_in(browser, server, "kevin")
    expect(kevin.locator(".topbar .count.unread")).to_have_count(0)

    agent = signed_in(browser, server, "agent")
    agent.goto(f"{server.url}/inbox/c/{conversation}")
    agent.fill("#note-body", "Packed yet? ")
    agent.click(".mention-pick[data-handle=kevin]")  # the handle list beside the note box
    expect(agent.locator("#note-body")).to_have_value("Packed yet? @kevin ")
    agent.click("#note button[type=submit]")
    expect(agent.locator(".timeline mark.mention[data-handle=kevin]")).to_have_text("@kevin")

    kevin.reload()
    expect(kevin.locator(".topbar .count.unread")).to_have_text("1")
    kevin.click(".topbar a[href='/notifications']")
    kevin.click("text=Agent mentioned you in a note")
    expect(kevin).to_have_url(f"{server.url}/inbox/c/{conversation}")


def test_a_quick_reply_is_picked_filled_and_sent(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation("Zawadi Achieng", owner="agent", last_at=recent())
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")

    # "/" and a shortcut in the reply box, then Tab: the filled text replaces the shortcut.
    box = page.locator("#reply-body")
    box.click()
    box.press_sequentially("Sawa. /ho")
    expect(page.locator("#quick-suggest li")).to_have_count(1)
    expect(page.locator("#quick-suggest li.active")).to_contain_text("/hours")
    box.press("Tab")
    expect(box).to_be_focused()
    expect(box).to_have_value(
        "Sawa. We are on Luthuli Avenue, Nairobi, open Monday to Friday 8:30 to 18:30 and "
        "Saturday 9:00 to 17:00. Karibu Zawadi!"
    )
    expect(page.locator("#quick-suggest")).to_be_hidden()

    # The picker inserts at the cursor too.
    box.fill("")
    page.select_option("#quick-reply", "/warranty")
    expect(box).to_have_value(
        "Sorry to hear that, Zawadi. Please send a photo of the receipt and of the problem; "
        "our aftersales team will tell you within one working day whether it is covered."
    )
    page.click("#reply button[type=submit]")
    expect(page.locator(".timeline li.outbound").last).to_contain_text("Sorry to hear that, Zawadi")


def test_shortcuts_focus_the_reply_box_and_open_help(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation("Keys Customer", owner="agent", last_at=recent())
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    page.locator("body").click(position={"x": 5, "y": 5})

    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("ran")  # typing: no shortcut fires, the letters stay in the box
    expect(page.locator("#reply-body")).to_have_value("ran")
    expect(page.locator("#note-body")).not_to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#reply-body")).not_to_be_focused()

    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    help_box = page.locator("#shortcut-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("write a reply")
    page.keyboard.press("Escape")
    expect(help_box).to_have_count(0)

    # In a queue, j moves the highlight and Enter opens the highlighted conversation.
    page.goto(f"{server.url}/inbox?queue=mine")
    page.keyboard.press("j")
    first = page.locator("table.conversations tbody tr").first
    expect(first).to_have_class(re.compile(r"\bselected\b"))
    href = first.locator("a.conversation-link").get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}{href}")


def test_the_conversation_page_fits_a_phone(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Mwanaisha Wairimu-Kipchumba " + "Longname" * 6,
        owner="agent",
        last_at=recent(),
        texts=("Habari! " + "x" * 120, "https://example.com/" + "a" * 200),
    )
    page = signed_in(browser, server, "agent", viewport={"width": 390, "height": 844})
    page.goto(f"{server.url}/inbox/c/{conversation}")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    box = page.locator("#reply-body")
    box.scroll_into_view_if_needed()
    expect(box).to_be_visible()
    bounds = box.bounding_box()
    assert bounds is not None and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 390
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("r")
    expect(box).to_be_focused()
    box.fill("Sawa")
    page.click("#reply button[type=submit]")
    expect(page.locator(".timeline li.outbound").last).to_contain_text("Sawa")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
