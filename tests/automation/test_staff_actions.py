"""Staff actions reach the rules: a teammate moving a conversation to 'quote' sends it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.db import unit_of_work
from engine.inbox.stages import move_stage
from engine.models import (
    BusinessObject,
    BusinessObjectLink,
    Conversation,
    OutboxRow,
    ScheduledAction,
    StageHistory,
    Teammate,
)
from tests.automation.test_inbound_rules import Shop


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def test_a_teammate_moving_to_quote_triggers_the_quote_rule(shop: Shop) -> None:
    shop.customer_says("254722700001", "Bei ya microwave?")
    [conversation] = shop.rows(Conversation)
    [brian] = shop.rows(Teammate, Teammate.handle == "brian")
    principal = Principal(shop.workspace_id, Role.MANAGER, brian.name, teammate_id=brian.id)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        order = BusinessObject(
            kind="order",
            external_ref="DB-9",
            status="open",
            amount=Decimal("12999"),
            currency="KES",
            fields={"items": "Microwave 20L"},
            contact_id=conversation.contact_id,
        )
        session.add(order)
        session.flush()
        session.add(
            BusinessObjectLink(conversation_id=conversation.id, business_object_id=order.id)
        )
        desk = desk_for(session, rules_in_force(session, shop.configs, shop.workspace_id))
        move_stage(
            desk,
            principal,
            conversation.id,
            stage="quote",
            expected_stage="inquiry",
            now=shop.clock.now(),
        )
    [row] = shop.rows(OutboxRow)
    assert row.payload["name"] == "quote_ready"
    assert "Microwave 20L" in str(row.payload["body_parameters"])
    [chase] = shop.rows(ScheduledAction, ScheduledAction.rule_name == "Send the quote")
    assert chase.state == "pending"
    moves = [(m.to_stage, m.actor_teammate_id) for m in shop.rows(StageHistory)]
    assert ("quote", brian.id) in moves
