"""Scheduled rules: 'every day at 08:30' runs once per occurrence, in the workspace's time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from engine.automation.schedules import run_due_schedules
from engine.core.schedules import latest_occurrence
from engine.models import Message, OutboxRow
from tests.automation.test_inbound_rules import Shop

NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def test_latest_occurrence_in_local_time() -> None:
    weekdays = (0, 1, 2, 3, 4)
    at = time(8, 30)
    window = timedelta(minutes=30)
    monday_0835 = datetime(2026, 11, 30, 8, 35, tzinfo=NAIROBI)
    assert latest_occurrence(weekdays, at, NAIROBI, monday_0835, window) == datetime(
        2026, 11, 30, 8, 30, tzinfo=NAIROBI
    )
    assert (
        latest_occurrence(weekdays, at, NAIROBI, monday_0835 - timedelta(minutes=6), window) is None
    )
    assert (
        latest_occurrence(weekdays, at, NAIROBI, monday_0835 + timedelta(hours=2), window) is None
    )
    sunday = datetime(2026, 11, 29, 8, 31, tzinfo=NAIROBI)
    assert latest_occurrence(weekdays, at, NAIROBI, sunday, window) is None


def test_last_nights_customers_get_the_morning_template_once(shop: Shop) -> None:
    shop.clock.set(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))  # Tuesday 23:00 in Nairobi
    shop.customer_says("254722500001", "Niko na swali kuhusu simu")
    assert "after-hours" in shop.tags()[0]

    shop.clock.set(datetime(2026, 11, 25, 5, 20, tzinfo=UTC))  # 08:20: not yet
    run_due_schedules(shop.db, shop.configs, shop.clock.now())
    assert shop.rows(OutboxRow) == []

    shop.clock.set(datetime(2026, 11, 25, 5, 31, tzinfo=UTC))  # 08:31
    run_due_schedules(shop.db, shop.configs, shop.clock.now())
    run_due_schedules(shop.db, shop.configs, shop.clock.now() + timedelta(minutes=1))
    [row] = shop.rows(OutboxRow)
    assert row.payload["name"] == "we_are_open"
    [sent] = shop.rows(Message, Message.direction == "outbound")
    assert sent.author_rule == "Good morning to last night's customers"
    assert "after-hours" not in shop.tags()[0]
