"""The manager's view over a working retail day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.db import workspace_session
from engine.reports.manager import manager_view
from tests.automation.test_inbound_rules import Shop
from tests.sla.test_breaches import MONDAY_0850, SATURDAY_1650, check_due


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    shop = Shop(db, *retail_copy)
    shop.clock.set(SATURDAY_1650)
    return shop


def test_the_view_shows_waiting_customers_tasks_breaches_and_the_pipeline(shop: Shop) -> None:
    shop.customer_says("254722600001", "Bei ya TV?", name="Achieng Otieno")
    shop.customer_says("254722600002", "Warranty claim: my fridge is broken", name="Brian Kip")
    shop.clock.set(MONDAY_0850 + timedelta(seconds=1))
    check_due(shop)  # the first responses were not given: breaches, escalations

    with workspace_session(shop.db, shop.workspace_id) as session:
        view = manager_view(session, shop.clock.now())
    waiting = {item.customer for item in view.waiting_on_us}
    assert waiting == {"Achieng Otieno", "Brian Kip"}
    assert {item.customer for item in view.breaches_today} == waiting
    assert all(item.detail == "first response (standard)" for item in view.breaches_today)
    assert {item.customer for item in view.escalations} == waiting
    assert any(item.detail == "Send Achieng a quote" for item in view.follow_ups_today)
    [inquiries] = [f for f in view.pipeline if (f.pipeline, f.stage) == ("sales", "inquiry")]
    assert inquiries.conversations == 2
    assert sum(person.breaches_today for person in view.teammates) == 2
    assert view.config_refused is None
