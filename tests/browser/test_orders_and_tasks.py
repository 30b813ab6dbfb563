"""In Chromium: an agent fills an order with line items and sees the amount computed; My
tasks in the header lists what is overdue first and links to its conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect

from engine.db import workspace_session
from engine.models import Task
from tests.browser.conftest import Server
from tests.browser.test_builder import SCREENSHOTS, screenshot
from tests.browser.test_working_a_conversation import signed_in


def test_an_order_is_filled_with_line_items_and_its_amount_computed(
    server: Server, browser: Browser
) -> None:
    conversation = server.world.conversation(
        "Order Customer", owner="agent", last_at=datetime.now(UTC) - timedelta(minutes=3)
    )
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    create = page.locator(f"form[action='/inbox/c/{conversation}/objects']")
    create.locator("select[name=kind]").select_option("order")
    create.locator("input[name=external_ref]").fill("DB-2001")
    create.locator("button[type=submit]").click()
    order = page.locator("li.object").filter(has_text="DB-2001")
    expect(order).to_be_visible()

    order.locator("summary:has-text('Items')").click()
    lines = order.locator("form.lines-form")
    lines.get_by_label("Line 1 description").fill("Hisense 43in TV")
    lines.get_by_label("Line 1 quantity").fill("1")
    lines.get_by_label("Line 1 unit price").fill("38500")
    lines.get_by_label("Line 2 description").fill("Wall bracket")
    lines.get_by_label("Line 2 quantity").fill("2")
    lines.get_by_label("Line 2 unit price").fill("1499.50")
    lines.locator("button[type=submit]").click()

    order = page.locator("li.object").filter(has_text="DB-2001")
    expect(order.locator("ul.lines")).to_contain_text("2 \u00d7 Wall bracket")
    expect(order.locator(".object-amount")).to_have_text("KES 41,499")
    expect(order).to_contain_text("2,999")
    order.locator("summary:has-text('Items')").click()
    screenshot_element(order.screenshot, "order-lines.png")  # the card, its editor open

    # A mistyped quantity is refused with the line it is on; the order keeps its lines.
    order.locator("form.lines-form").get_by_label("Line 1 quantity").fill("one")
    order.locator("form.lines-form button[type=submit]").click()
    expect(page.locator(".error")).to_contain_text("line 1 quantity")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator("li.object .object-amount")).to_have_text("KES 41,499")


def test_my_tasks_lists_overdue_first_and_links_to_the_conversation(
    server: Server, browser: Browser
) -> None:
    now = datetime.now(UTC)
    world = server.world
    first = world.conversation("Tasks Customer A", owner="agent", last_at=now)
    second = world.conversation("Tasks Customer B", owner="agent", last_at=now)
    with workspace_session(world.db, world.workspace_id) as session:
        for title, conversation, due in (
            ("Deliver on Friday", first, now + timedelta(days=3)),
            ("Call back about the deposit", second, now - timedelta(hours=2)),
        ):
            session.add(
                Task(
                    title=title,
                    due_at=due,
                    assignee_id=world.people["agent"],
                    conversation_id=conversation,
                    created_at=now,
                )
            )
        session.commit()
    page = signed_in(browser, server, "agent")
    page.click("nav.account a:has-text('My tasks')")
    expect(page).to_have_url(f"{server.url}/tasks")
    tasks = page.locator("ul.my-tasks li.task")
    expect(tasks.first).to_contain_text("Call back about the deposit")
    expect(tasks.first).to_contain_text("overdue")
    expect(page.locator("li.task").filter(has_text="Deliver on Friday")).to_be_visible()

    screenshot(page, "my-tasks.png", full_page=False)
    tasks.first.locator("form button:has-text('Done')").click()
    expect(page.locator("li.task").filter(has_text="Call back about the deposit")).to_have_count(0)
    page.click("a:has-text('Deliver on Friday')")
    expect(page).to_have_url(f"{server.url}/inbox/c/{first}")


def screenshot_element(shoot: Callable[..., bytes], name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shoot(path=str(Path(SCREENSHOTS) / name))
