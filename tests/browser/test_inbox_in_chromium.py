"""The inbox in a real browser: sign in, find the unassigned conversation, claim it,
reply, see the reply in the history, see the customer's answer arrive live; customer
text that tries to run script does nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.inbox.seed import PASSWORD, customer_writes

HOSTILE_NAME = "<img src=x onerror=\"document.title='pwned'\">Mallory"
HOSTILE_TEXT = '<script>document.title="pwned"</script><b hx-get="/logout" hx-trigger="load">hi</b>'


def sign_in(page: Page, server: Server, handle: str) -> None:
    page.goto(f"{server.url}/login?workspace={server.world.slug}")
    page.fill("input[name=login]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/inbox")


def test_sign_in_claim_reply_and_see_it(server: Server, browser: Browser) -> None:
    now = datetime.now(UTC)
    conversation = server.world.conversation(
        "Wanjiku Mwangi", texts=("Habari, mna TV ya inchi 43?",), last_at=now - timedelta(minutes=3)
    )
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, "agent")

    page.click("a[data-queue=unassigned]")
    expect(page.locator("[data-count=unassigned]")).to_have_text("1")
    page.click("text=Wanjiku Mwangi")
    expect(page).to_have_url(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator(".timeline")).to_contain_text("Habari, mna TV ya inchi 43?")

    page.click("#claim")
    expect(page.locator(".owner")).to_contain_text("Agent")
    expect(page.locator(".window")).to_contain_text("window closes in")

    page.fill("#reply-body", 'Ndiyo! Samsung 43" ni KES 38,000.')
    page.click("#reply button[type=submit]")
    reply = page.locator(".timeline li.outbound").last
    expect(reply).to_contain_text('Ndiyo! Samsung 43" ni KES 38,000.')
    expect(reply.locator(".ticks")).to_have_attribute("data-state", "queued")

    # The customer answers through another process; it appears without a reload.
    customer_writes(server.world, conversation, "Sawa, nitalipa na M-Pesa", datetime.now(UTC))
    expect(page.locator(".timeline li.inbound").last).to_contain_text(
        "Sawa, nitalipa na M-Pesa", timeout=10_000
    )
    assert dialogs == []


def test_hostile_profile_names_and_messages_do_nothing(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        HOSTILE_NAME, texts=(HOSTILE_TEXT,), last_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, "agent")
    page.goto(f"{server.url}/inbox?queue=unassigned")
    expect(page.locator(".conversation-link").first).to_have_text(HOSTILE_NAME)
    page.goto(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator(".contact-name")).to_have_text(HOSTILE_NAME)
    expect(page.locator(".timeline li.inbound .body")).to_have_text(HOSTILE_TEXT)
    page.wait_for_timeout(300)  # give any planted handler or hx-trigger=load its chance
    assert page.title() != "pwned"
    assert page.locator(".timeline img").count() == 0
    assert page.locator(".timeline script").count() == 0
    assert dialogs == []
    # Still signed in: the planted hx-get="/logout" never fired.
    page.goto(f"{server.url}/inbox")
    expect(page).to_have_url(f"{server.url}/inbox")


def test_a_new_conversation_appears_in_the_open_queue_without_reload(
    server: Server, browser: Browser
) -> None:
    page = browser.new_page()
    sign_in(page, server, "kevin")
    page.goto(f"{server.url}/inbox?queue=all&q=Newcomer")
    expect(page.locator(".empty")).to_be_visible()
    page.fill("#search", "typing here survives the refresh")
    server.world.conversation("Newcomer Achieng", last_at=datetime.now(UTC))
    expect(page.locator(".conversation-link")).to_have_text(["Newcomer Achieng"], timeout=10_000)
    expect(page.locator("#search")).to_have_value("typing here survives the refresh")
