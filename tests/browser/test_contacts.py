"""The Contacts area in Chromium: a manager imports a list (map, preview, confirm); an agent
adds a customer with their opt-in and writes first with a template."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_a_manager_imports_a_list_after_fixing_its_mapping(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    listing = tmp_path / "wateja.csv"
    listing.write_text(
        "Jina,Simu,Town,Opt-in\nWanjiku Browser,0722 123 001,nairobi,yes\nTwin,+254722123001,,\n",
        encoding="utf-8",
    )
    page = signed_in(browser, server, "manager")
    page.click("a:has-text('Contacts')")
    page.click("#import-contacts")
    page.set_input_files("input[name=file]", str(listing))
    page.click("button:has-text('Upload and preview')")
    expect(page.locator("#import-problems")).to_contain_text("unknown field 'town'")
    page.select_option("select[name='map:Town']", "field:county")
    page.click("button:has-text('Check again')")
    expect(page.locator("#import-summary")).to_contain_text("1 new contacts")
    expect(page.locator(".row-errors")).to_contain_text("line 3: +254722123001 is the same number")
    page.click("#confirm-import")
    expect(page.locator("#import-result")).to_contain_text("1 new contacts")
    page.goto(f"{server.url}/contacts?q=Wanjiku")
    expect(page.locator("table.contacts")).to_contain_text("+254722123001")
    expect(page.locator("table.contacts")).to_contain_text("opted in")


def test_an_agent_adds_a_customer_and_writes_first(server: Server, browser: Browser) -> None:
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/contacts")
    expect(page.locator("#import-contacts")).to_have_count(0)
    page.click("#add-contact")
    page.fill("input[name=name]", "Otieno Browser")
    page.fill("input[name=number]", "0733 456 002")
    page.click("button:has-text('Add')")
    expect(page.locator("#start-refused")).to_contain_text("no opt-in is recorded")
    page.fill("form.contact-consent input[name=source]", "asked at the counter")
    page.click("button:has-text('Record opt-in')")
    expect(page.locator("#consent-state")).to_contain_text("Opted in")
    page.click(".start-conversation summary:has-text('we_are_open')")
    form = page.locator(".start-conversation form:has(input[value='we_are_open:en'])")
    form.locator("input[name=param_1]").fill("Otieno")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+$"))
    expect(page.locator(".timeline li.outbound").last).to_contain_text("Good morning Otieno")
    expect(page.locator(".owner")).to_contain_text("Agent")
