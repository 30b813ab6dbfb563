"""Runtime loop protection: a rule firing too often on one conversation is stopped and shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.core.step import FIRINGS_PER_RULE_PER_HOUR
from engine.db import workspace_session
from engine.models import AuditLog, Note, RuleFiring
from engine.reports.manager import manager_view
from tests.automation.test_inbound_rules import Shop

RULE = "Every message gets a look"

# A rule a consultant could well write: it matches every message, so a chatty customer
# (or two bots talking to each other) makes it fire without end.
CHATTY = f"""rule "{RULE}"
when message received
then
  create task "Look at the message from {{contact.first_name}}" for team "sales" due in 1h
end
"""


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    config_dir, slug = retail_copy
    (config_dir / slug / "rules" / "chatty.kazi").write_text(CHATTY, encoding="utf-8")
    return Shop(db, config_dir, slug)


def test_a_rule_firing_on_every_message_is_stopped_and_managers_see_it(shop: Shop) -> None:
    for n in range(FIRINGS_PER_RULE_PER_HOUR + 1):
        shop.customer_says("254722900001", f"Bei ngapi? ({n})")
        shop.clock.advance(timedelta(minutes=1))
    fired = shop.rows(RuleFiring, RuleFiring.rule_name == RULE)
    assert [f.outcome for f in fired].count("fired") == FIRINGS_PER_RULE_PER_HOUR
    assert fired[-1].outcome == "stopped"
    [stopped] = [a for a in shop.rows(AuditLog) if a.action == "rule_stopped"]
    assert stopped.detail["rule"] == RULE
    assert any(n.body.startswith(f"Automation '{RULE}' was stopped") for n in shop.rows(Note))
    with workspace_session(shop.db, shop.workspace_id) as session:
        view = manager_view(session, shop.clock.now())
    assert [item.detail.split(":")[0] for item in view.rules_stopped] == [RULE]

    # An hour later the rule is trusted again.
    shop.clock.advance(timedelta(hours=1))
    shop.customer_says("254722900001", "Bei ya TV?")
    assert shop.rows(RuleFiring, RuleFiring.rule_name == RULE)[-1].outcome == "fired"
