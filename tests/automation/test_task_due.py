"""'when task due': an open task's due time reaches the rules once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.automation.tasks import report_task_due
from engine.db import workspace_session
from engine.jobs.names import REPORT_TASK_DUE
from engine.models import Notification, Task
from engine.workspaces.reload import reload_folder
from tests.automation.test_inbound_rules import Shop
from tests.sweeping import swept

OVERDUE_RULE = """

rule "Overdue quotes go to the manager"
when task due
if task.title contains "quote"
then
  notify teammate "wanjiru" "Overdue: {task.title}"
end
"""


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    config_dir, slug = retail_copy
    with (config_dir / slug / "rules" / "sales.kazi").open("a") as rules:
        rules.write(OVERDUE_RULE)
    shop = Shop(db, config_dir, slug)
    assert reload_folder(db, config_dir / slug, shop.clock.now()).accepted
    return shop


def report_due(shop: Shop) -> list[int]:
    mine = {t.id for t in shop.rows(Task)}
    ids = swept(shop.db, shop.clock.now(), REPORT_TASK_DUE, "task_id", mine)
    for task_id in ids:
        report_task_due(task_id=task_id, db=shop.db, clock=shop.clock, configs=shop.configs)
    return ids


def test_an_overdue_task_reaches_the_rules_once(shop: Shop) -> None:
    shop.customer_says("254722950001", "Bei ya friji?")
    [task] = shop.rows(Task)
    assert task.title == "Send Achieng a quote"
    assert report_due(shop) == []  # due in 30 minutes
    shop.clock.advance(timedelta(minutes=31))
    assert report_due(shop) == [task.id]
    [alert] = shop.rows(Notification)
    assert alert.text == "Overdue: Send Achieng a quote"
    shop.clock.advance(timedelta(minutes=5))
    assert report_due(shop) == []
    assert len(shop.rows(Notification)) == 1


def test_a_task_done_in_time_is_not_reported(shop: Shop) -> None:
    shop.customer_says("254722950002", "Bei ya friji?")
    with workspace_session(shop.db, shop.workspace_id) as session:
        for task in session.scalars(select(Task)):
            task.done_at = shop.clock.now()
        session.commit()
    shop.clock.advance(timedelta(hours=1))
    assert report_due(shop) == []
    assert shop.rows(Notification) == []
