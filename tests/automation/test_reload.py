"""Config changes while running (issue 6, item 7): refused whole, or switched everywhere."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.db import workspace_session
from engine.models import AuditLog, ConfigVersion, Conversation, ScheduledAction
from engine.workspaces.reload import reload_folder
from tests.automation.test_delayed_actions import pending, quote, run_due
from tests.automation.test_inbound_rules import Shop

NEW_RULE = """

rule "Greet every new customer"
when conversation opened
then
  tag "greeted"
end
"""


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    shop = Shop(db, *retail_copy)
    shop.folder = retail_copy[0] / retail_copy[1]  # type: ignore[attr-defined]
    return shop


def folder(shop: Shop) -> Path:
    return shop.folder  # type: ignore[attr-defined,no-any-return]


def active_version(shop: Shop) -> str:
    [version] = shop.rows(ConfigVersion, ConfigVersion.active.is_(True))
    return str(version.hash)


def test_a_config_with_an_error_is_refused_and_the_running_one_stays(shop: Shop) -> None:
    before = active_version(shop)
    pipelines = folder(shop) / "pipelines.yaml"
    text = pipelines.read_text()
    pipelines.write_text(text.replace("inquiry: [quote, lost]", "inquiry: [qoute, lost]"))
    outcome = reload_folder(shop.db, folder(shop), shop.clock.now())
    assert not outcome.accepted
    assert any("qoute" in d.message for d in outcome.diagnostics if d.is_error)
    assert active_version(shop) == before
    [refusal] = [a for a in shop.rows(AuditLog) if a.action == "config_refused"]
    assert refusal.detail["errors"] >= 1
    # The rules in force keep working.
    shop.customer_says("254722400001", "Bei ya TV?")
    assert shop.tags() == [["price-asked"]]


def test_a_good_change_is_switched_to_by_a_process_holding_the_old_copy(shop: Shop) -> None:
    shop.customer_says("254722400002", "Hello")  # the process compiles and holds v1
    before = active_version(shop)
    with (folder(shop) / "rules" / "sales.kazi").open("a") as rules:
        rules.write(NEW_RULE)
    outcome = reload_folder(shop.db, folder(shop), shop.clock.now())
    assert outcome.accepted and outcome.changed and active_version(shop) != before
    shop.customer_says("254722400003", "Hello again")
    assert "greeted" in shop.tags()[-1]
    assert "greeted" not in shop.tags()[0]
    assert not reload_folder(shop.db, folder(shop), shop.clock.now()).changed


def test_a_delay_scheduled_before_a_reload_is_rechecked_under_the_new_config(shop: Shop) -> None:
    quote(shop, "254722400004")
    [action] = pending(shop)
    sales = folder(shop) / "rules" / "sales.kazi"
    text = sales.read_text()
    start = text.index('rule "Send the quote"')
    end = text.index("end\n", start) + len("end\n")
    sales.write_text(text[:start] + text[end:])
    assert reload_folder(shop.db, folder(shop), shop.clock.now()).changed
    shop.clock.advance(timedelta(hours=49))
    assert action.id in run_due(shop)
    [done] = pending(shop)
    assert (done.state, done.outcome) == ("skipped", "the rule is no longer in the config")
    with workspace_session(shop.db, shop.workspace_id) as session:
        assert session.scalars(select(Conversation)).one().stage == "quote"
        assert session.scalars(select(ScheduledAction)).one().finished_at is not None
