"""The retail sample's rules running for real on inbound messages (issue 6, items 1-3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.automation.inbound import automations_for
from engine.automation.runner import rules_in_force
from engine.core.clock import FrozenClock
from engine.core.rules.events import DomainEvent
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import process_inbound_event
from engine.models import (
    BusinessObject,
    Conversation,
    InboundEvent,
    Message,
    Note,
    OutboxRow,
    RuleFiring,
    StageHistory,
    Task,
    Teammate,
)
from engine.whatsapp.apply import apply_whatsapp_event
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from tests.applying import step_event

SHOP = Business("1020", "104729384756101", "254711502300")
TUESDAY_10_NAIROBI = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


class Shop:
    def __init__(self, db: Engine, config_dir: Path, slug: str) -> None:
        self.db = db
        self.configs = ConfigDirectory(config_dir)
        self.workspace_id = load_folder(db, config_dir / slug, TUESDAY_10_NAIROBI)
        self.clock = FrozenClock(TUESDAY_10_NAIROBI)
        self.sequence = 0

    def customer_says(self, wa_id: str, text: str, name: str = "Achieng") -> InboundEvent:
        self.sequence += 1
        body = json.dumps(
            message_webhook(
                SHOP,
                wa_id,
                name,
                {
                    "from": wa_id,
                    "id": f"wamid.auto-{wa_id}-{self.sequence}",
                    "timestamp": str(int(self.clock.now().timestamp())),
                    "type": "text",
                    "text": {"body": text},
                },
            )
        ).encode()
        with workspace_session(self.db, self.workspace_id) as session:
            stored = store_inbound(
                session,
                workspace_id=self.workspace_id,
                provider="whatsapp",
                items=[
                    RawItem(dedup_key=e.dedup_key, payload=e.envelope) for e in parse_webhook(body)
                ],
                signature_ok=True,
                now=self.clock.now(),
            )
            session.commit()
        [event_id] = stored.new_event_ids
        process_inbound_event(
            event_id=event_id,
            db=self.db,
            clock=self.clock,
            handlers={"whatsapp": apply_whatsapp_event},
            automations=automations_for(self.configs),
        )
        with workspace_session(self.db, self.workspace_id) as session:
            event = session.get(InboundEvent, event_id)
            assert event is not None
            return event

    def tags(self) -> list[list[str]]:
        with workspace_session(self.db, self.workspace_id) as session:
            return [
                c.tag_names for c in session.scalars(select(Conversation).order_by(Conversation.id))
            ]

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def test_a_price_question_starts_the_pipeline_routes_and_tasks_sales(shop: Shop) -> None:
    event = shop.customer_says("254722100001", "Habari, bei ya TV ya inchi 55 ni ngapi?")
    assert (event.state, event.last_error) == ("processed", None)

    [conversation] = shop.rows(Conversation)
    assert (conversation.pipeline, conversation.stage) == ("sales", "inquiry")
    assert shop.tags() == [["price-asked"]]
    [owner] = shop.rows(Teammate, Teammate.id == conversation.owner_id)
    assert owner.handle in {"wanjiru", "brian", "faith"}  # the sales team, round robin

    [history] = shop.rows(StageHistory)
    assert (history.from_stage, history.to_stage, history.actor_kind) == (None, "inquiry", "system")

    [task] = shop.rows(Task)
    assert task.title == "Send Achieng a quote"
    assert task.due_at == TUESDAY_10_NAIROBI + timedelta(minutes=30)

    firings = {f.rule_name for f in shop.rows(RuleFiring)}
    assert "Price questions are tagged for sales" in firings
    assert all(f.config_version_id is not None for f in shop.rows(RuleFiring))


def test_round_robin_spreads_new_customers_across_the_team(shop: Shop) -> None:
    for n in range(3):
        shop.customer_says(f"25472210010{n}", "Hello, do you sell fridges?", name=f"Client {n}")
        shop.clock.advance(timedelta(minutes=1))
    owners = [c.owner_id for c in shop.rows(Conversation)]
    assert len(set(owners)) == 3


def test_a_night_message_is_tagged_after_hours(shop: Shop) -> None:
    shop.clock.set(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))  # 23:00 in Nairobi
    shop.customer_says("254722100002", "Are you open tomorrow?")
    [tags] = shop.tags()
    assert "after-hours" in tags


def test_a_rule_fires_once_per_triggering_event(shop: Shop) -> None:
    shop.customer_says("254722100003", "How much is the soundbar?")
    [conversation] = shop.rows(Conversation)
    firings_before = len(shop.rows(RuleFiring))
    tasks_before = len(shop.rows(Task))
    # The same domain event again (a redelivered job): nothing fires twice.
    [message] = shop.rows(Message)
    with workspace_session(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        again = DomainEvent(
            "message_received",
            f"message:{message.provider_message_id}",
            shop.clock.now(),
            data={"message": {"text": message.body, "type": "text"}},
        )
        step_event(
            session, rules, session.get(Conversation, conversation.id), again, shop.clock.now()
        )  # type: ignore[arg-type]
        session.commit()
    assert len(shop.rows(RuleFiring)) == firings_before
    assert len(shop.rows(Task)) == tasks_before


def test_moving_to_quote_sends_the_template_through_the_outbox(shop: Shop) -> None:
    shop.customer_says("254722100004", "Nataka bei ya simu")
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        subject = session.get(Conversation, conversation.id)
        assert subject is not None
        [order] = session.scalars(select(BusinessObject)).all()  # the price question made it
        order.amount, order.fields = Decimal("15999"), {"items": "Tecno Spark 20"}
        entered = DomainEvent(
            "stage_entered",
            "staff:move:1",
            shop.clock.now(),
            key="quote",
            data={"pipeline": "sales"},
        )
        subject.stage = "quote"
        step_event(session, rules, subject, entered, shop.clock.now())
        session.commit()
    [row] = shop.rows(OutboxRow)
    assert (row.kind, row.payload["type"], row.payload["name"]) == (
        "whatsapp.send",
        "template",
        "quote_ready",
    )
    assert len(row.payload["header_parameters"]) == 1  # "Quote {{1}}": the order reference
    assert len(row.payload["body_parameters"]) == 3
    [sent] = shop.rows(Message, Message.direction == "outbound")
    assert sent.body.startswith("Quote ") and "Duka Bora Electronics" in sent.body
    assert (sent.author_kind, sent.author_rule, sent.delivery_state) == (
        "rule",
        "Send the quote",
        "queued",
    )
    notes = shop.rows(Note)
    assert notes == []
