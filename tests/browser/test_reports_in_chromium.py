"""The reports page in a real browser, with a month of work behind it: every chart is
drawn and legible. docs/screenshots/reports.png is this page's screenshot: set
KAZI_UPDATE_SCREENSHOTS=1 to write it there again (otherwise it goes to a temporary folder,
so a test run leaves the repository as it was)."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from engine.automation.runner import rules_in_force
from engine.conversations.tallies import rebuild
from engine.db import unit_of_work
from engine.models import SlaClock, StageHistory
from engine.workspaces.directory import ConfigDirectory
from tests.browser.conftest import Server
from tests.browser.test_inbox_in_chromium import sign_in
from tests.inbox.test_reports_page import _conversation

STAGES = ("inquiry", "quote", "payment", "fulfilment", "delivery", "completed")


def _a_month_of_work(server: Server, repo_root: Path, tmp_path: Path) -> None:
    world = server.world
    pick = random.Random(16)
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    owners = [world.people[h] for h in ("agent", "other", "kevin", "manager")]
    with unit_of_work(world.db, world.workspace_id) as session:
        for n in range(60):
            opened = today - timedelta(days=pick.randint(0, 55), hours=-pick.randint(0, 10))
            conversation = _conversation(
                session,
                opened=opened,
                reply_after=timedelta(minutes=pick.choice([4, 12, 25, 40, 90, 300])),
                resolved_after=timedelta(hours=pick.choice([1, 3, 6, 20])) if n % 4 else None,
                owner=pick.choice(owners),
            )
            reached = pick.randint(0, len(STAGES) - 1)
            at = opened
            for step, stage in enumerate(STAGES[: reached + 1]):
                session.add(
                    StageHistory(
                        subject_kind="conversation",
                        subject_id=conversation,
                        pipeline="sales",
                        from_stage=STAGES[step - 1] if step else None,
                        to_stage=stage,
                        actor_kind="teammate",
                        at=at,
                    )
                )
                at += timedelta(hours=pick.choice([1, 4, 12, 30]))
            met = pick.random() < 0.8
            session.add(
                SlaClock(
                    conversation_id=conversation,
                    kind="first_response",
                    policy="standard",
                    started_at=opened,
                    due_at=opened + timedelta(hours=1),
                    stopped_at=opened + timedelta(minutes=30),
                    met=met,
                    breached_at=None if met else opened + timedelta(hours=1),
                )
            )
        configs = tmp_path / "configs"
        configs.mkdir()
        (configs / world.slug).symlink_to(repo_root / "configs" / "retail")
        rules = rules_in_force(session, ConfigDirectory(configs), world.workspace_id)
        assert rules is not None
        rebuild(session, world.workspace_id, rules.graph.calendar)
        assert session.scalars(select(StageHistory)).first() is not None


def test_the_reports_page_draws_its_charts(
    server: Server, browser: Browser, repo_root: Path, tmp_path: Path
) -> None:
    _a_month_of_work(server, repo_root, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, server, "manager")
    page.goto(f"{server.url}/reports")
    expect(page.locator("h1")).to_have_text("Reports")
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(4)
    for index in range(4):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
        # decoded and drawn: a broken image has no natural size
        assert charts.nth(index).evaluate("img => img.naturalWidth") == 640
    expect(page.locator("#durations")).to_contain_text("first response")
    expect(page.locator("#funnel")).to_contain_text("sales: quote")
    expect(page.locator("#teammates")).to_contain_text("Agent")
    folder = repo_root / "docs" / "screenshots"
    shot = (folder if os.environ.get("KAZI_UPDATE_SCREENSHOTS") else tmp_path) / "reports.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
