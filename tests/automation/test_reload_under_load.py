"""Config reload under load loses nothing (issue 6, item 9).

Workers keep applying inbound messages while the config is switched back and
forth, and a broken edit is refused in between: every event is processed once,
and every message met a complete config, old or new, never none.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.models import InboundEvent, RuleFiring
from engine.workspaces.reload import reload_folder
from tests.automation.test_inbound_rules import Shop

EXTRA_RULE = """

rule "Greet every new customer"
when conversation opened
then
  tag "greeted"
end
"""
MESSAGES = 24
MAX_SECONDS = 90  # bounded in time, not in count: a slow machine reloads less often


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def test_messages_keep_flowing_while_the_config_changes(
    shop: Shop, retail_copy: tuple[Path, str]
) -> None:
    config_dir, slug = retail_copy
    folder = config_dir / slug
    rules = folder / "rules" / "sales.kazi"
    pipelines = folder / "pipelines.yaml"
    original_rules, original_pipelines = rules.read_text(), pipelines.read_text()
    errors: list[BaseException] = []
    reloads: list[bool] = []
    done = threading.Event()

    def keep_reloading() -> None:
        try:
            turn = 0
            while not done.is_set():
                turn += 1
                if turn % 3 == 0:  # a broken edit: refused, the running config stays
                    pipelines.write_text(original_pipelines.replace("[quote, lost]", "[qoute]"))
                    assert not reload_folder(shop.db, folder, shop.clock.now()).accepted
                    pipelines.write_text(original_pipelines)
                    reloads.append(False)
                else:
                    rules.write_text(original_rules + (EXTRA_RULE if turn % 2 else ""))
                    assert reload_folder(shop.db, folder, shop.clock.now()).accepted
                    reloads.append(True)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    reloader = threading.Thread(target=keep_reloading)
    reloader.start()
    sent = 0
    try:
        # Keep customers writing until the config has changed under them several times.
        deadline = time.monotonic() + MAX_SECONDS
        while sent < MESSAGES or (len(reloads) < 4 and time.monotonic() < deadline):
            shop.customer_says(f"254722960{sent:03d}", f"Bei ya simu? ({sent})")
            shop.clock.advance(timedelta(seconds=30))
            sent += 1
    finally:
        done.set()
        reloader.join(timeout=60)
    assert errors == []
    assert reloads.count(True) >= 3 and reloads.count(False) >= 1, reloads

    events = shop.rows(InboundEvent)
    assert len(events) == sent
    assert {(e.state, e.attempts) for e in events} == {("processed", 1)}
    tagged = {f.trigger_key for f in shop.rows(RuleFiring) if f.rule_name.startswith("Price")}
    assert len(tagged) == sent  # the price rule is in every version: it ran every time
    assert all(f.config_version_id is not None for f in shop.rows(RuleFiring))
