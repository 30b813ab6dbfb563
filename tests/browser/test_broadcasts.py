"""Broadcasts in Chromium: a manager saves a segment, builds a broadcast (template,
variables, preview with the recipient count), sends it, and after a worker queued it sees
the report with who received it and who was skipped and why."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, select

from engine.broadcasts import queue_broadcast
from engine.core.clock import SystemClock
from engine.db import workspace_session
from engine.models import Broadcast
from engine.workspaces.directory import ConfigDirectory
from tests.browser.conftest import Server
from tests.browser.test_builder import screenshot
from tests.browser.test_contacts import signed_in


def test_a_manager_creates_and_sends_a_broadcast_and_sees_its_report(
    server: Server, browser: Browser, db: Engine, tmp_path: Path, repo_root: Path
) -> None:
    tag = f"offers{uuid.uuid4().hex[:6]}"
    page = signed_in(browser, server, "manager")
    for name, number, opt_in in (
        ("Zawadi Broadcast", "0722 987 001", "signed up at the counter"),
        ("Yusuf Broadcast", "0722 987 002", ""),
    ):
        page.goto(f"{server.url}/contacts/new")
        page.fill("input[name=name]", name)
        page.fill("input[name=number]", number)
        page.fill("input[name=tags]", tag)
        page.fill("input[name=opt_in]", opt_in)
        page.click("button:has-text('Add')")
        expect(page).to_have_url(re.compile(r"/inbox/contacts/\d+"))
    page.goto(f"{server.url}/contacts?tags={tag}")
    page.fill("form.save-segment input[name=name]", f"Segment {tag}")
    page.click("button:has-text('Save segment')")
    expect(page).to_have_url(re.compile(r"/contacts\?segment_id=\d+$"))

    page.click("nav a:has-text('Broadcasts')")
    expect(page).to_have_url(f"{server.url}/broadcasts")
    expect(page.locator("h1")).to_have_text("Broadcasts")
    page.click("#new-broadcast")
    expect(page.locator("h1")).to_have_text("New broadcast")
    page.fill("input[name=name]", f"Offer {tag}")
    option = page.locator("select[name=segment] option", has_text=f"Segment {tag}")
    page.select_option("select[name=segment]", option.get_attribute("value"))
    page.select_option("select[name=template]", "weekly_offer|en")
    page.click("button:has-text('Use this template')")
    expect(page.locator(".template-body")).to_contain_text("this week at Duka Bora")
    expect(page.locator("input[name=var1]")).to_have_value("contact.first_name")
    page.fill("input[name=var2]", "Tecno Spark 20 at KES 12,499")
    page.click("#preview-broadcast")
    expect(page.locator("#recipient-count")).to_have_text("1")
    expect(page.locator("#broadcast-preview")).to_contain_text("no opt-in recorded: 1")
    expect(page.locator("#broadcast-preview")).to_contain_text(
        "Hi Zawadi, this week at Duka Bora: Tecno Spark 20 at KES 12,499."
    )
    screenshot(page, "broadcast-new.png")
    page.click("#send-broadcast")
    expect(page).to_have_url(re.compile(r"/broadcasts/\d+$"))
    broadcast_id = int(page.url.rsplit("/", 1)[1])

    # The worker's job queues it (no worker runs beside this test's server).
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / server.world.slug).symlink_to(repo_root / "configs" / "retail")
    queue_broadcast(
        broadcast_id=broadcast_id, db=db, clock=SystemClock(), configs=ConfigDirectory(configs)
    )
    with workspace_session(db, server.world.workspace_id) as session:
        broadcast = session.scalars(select(Broadcast).where(Broadcast.id == broadcast_id)).one()
        assert broadcast.state == "queued"
    page.reload()
    expect(page.locator("#broadcast-state")).to_have_text("queued")
    expect(page.locator("#broadcast-report")).to_contain_text("Recipients")
    expect(page.locator("#count-skipped")).to_have_text("1")
    recipients = page.locator("table.recipients")
    expect(recipients).to_contain_text("Zawadi Broadcast")
    expect(recipients.locator("tr:has-text('Yusuf Broadcast')")).to_contain_text(
        "no opt-in recorded"
    )
    screenshot(page, "broadcast-report.png")
    page.click("a:has-text('← Broadcasts')")
    expect(page.locator("table.broadcasts")).to_contain_text(f"Offer {tag}")
