"""Staff actions reach the rules: a teammate moving a conversation to 'quote' sends it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force
from engine.automation.staff import observe, run_staff_changes
from engine.core.config import Pipeline
from engine.core.rules.changes import Observed, changes
from engine.db import unit_of_work
from engine.inbox.stages import move_stage
from engine.models import Conversation, OutboxRow, ScheduledAction, Teammate
from tests.automation.test_inbound_rules import Shop

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_changes_are_the_events_rules_expect_in_order() -> None:
    before = Observed("sales", "inquiry", "open", None, None, frozenset({"vip"}))
    after = Observed("sales", "quote", "waiting_on_customer", 7, 2, frozenset({"vip", "hot"}))
    events = changes(before, after, "staff:1", AT)
    assert [(e.kind, e.key) for e in events] == [
        ("stage_left", "inquiry"),
        ("stage_entered", "quote"),
        ("status_changed", "waiting_on_customer"),
        ("assigned", None),
        ("tag_added", "hot"),
    ]
    assert len({e.id for e in events}) == len(events)
    assert changes(before, before, "staff:2", AT) == []


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def test_a_teammate_moving_to_quote_triggers_the_quote_rule(shop: Shop) -> None:
    shop.customer_says("254722700001", "Bei ya microwave?")
    [conversation] = shop.rows(Conversation)
    [brian] = shop.rows(Teammate, Teammate.handle == "brian")
    principal = Principal(shop.workspace_id, Role.MANAGER, brian.name, teammate_id=brian.id)
    configured = pipelines(shop)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        before = observe(session, conversation.id)
        move_stage(
            session,
            principal,
            conversation.id,
            pipelines=configured,
            stage="quote",
            expected_stage="inquiry",
            now=shop.clock.now(),
        )
        run_staff_changes(
            session, shop.configs, shop.workspace_id, conversation.id, before, shop.clock.now()
        )
    [row] = shop.rows(OutboxRow)
    assert row.payload["name"] == "quote_ready"
    [chase] = shop.rows(ScheduledAction, ScheduledAction.rule_name == "Send the quote")
    assert chase.state == "pending"


def pipelines(shop: Shop) -> tuple[Pipeline, ...]:
    with unit_of_work(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        return rules.config.pipelines
