"""Classifying what no rule answered: the outbox job, the `inquiry classified` rules it feeds,
and that none of it sends anything, with the model up, failing or slow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.openai_compat.simulator import AiSimulator
from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.ai.inbound import CLASSIFY_KIND, classifying_automations, make_classify_executor
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import process_inbound_event
from engine.models import (
    AiResult,
    AiUsage,
    Conversation,
    InboundEvent,
    OutboxRow,
    RuleFiring,
    Workspace,
)
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import SEND_KIND
from engine.whatsapp.apply import apply_whatsapp_event
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder

SHOP = Business("1020", "104729384756101", "254711502300")
TUESDAY_10_NAIROBI = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


class Shop:
    def __init__(self, db: Engine, config_dir: Path, slug: str) -> None:
        self.db = db
        self.configs = ConfigDirectory(config_dir)
        self.workspace_id = load_folder(db, config_dir / slug, TUESDAY_10_NAIROBI)
        self.clock = FrozenClock(TUESDAY_10_NAIROBI)
        self.sequence = 0

    def customer_says(self, wa_id: str, text: str) -> InboundEvent:
        self.sequence += 1
        message = {
            "from": wa_id,
            "id": f"wamid.ai-{wa_id}-{self.sequence}",
            "timestamp": str(int(self.clock.now().timestamp())),
            "type": "text",
            "text": {"body": text},
        }
        body = json.dumps(message_webhook(SHOP, wa_id, "Otieno", message)).encode()
        with workspace_session(self.db, self.workspace_id) as session:
            stored = store_inbound(
                session,
                workspace_id=self.workspace_id,
                provider="whatsapp",
                items=[RawItem(e.dedup_key, e.envelope) for e in parse_webhook(body)],
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
            automations=classifying_automations(self.configs),
        )
        return self.rows(InboundEvent, InboundEvent.id == event_id)[0]

    def run_classifications(self) -> None:
        executors = {CLASSIFY_KIND: make_classify_executor(self.configs)}
        for row in self.rows(OutboxRow, OutboxRow.kind == CLASSIFY_KIND):
            dispatch_outbox_row(row_id=row.id, db=self.db, clock=self.clock, executors=executors)

    def rows_slug(self) -> str:
        with workspace_session(self.db, self.workspace_id) as session:
            return str(session.scalar(select(Workspace.slug)))

    def tags(self) -> list[list[str]]:
        with workspace_session(self.db, self.workspace_id) as session:
            return [
                c.tag_names for c in session.scalars(select(Conversation).order_by(Conversation.id))
            ]

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))


def use_model(folder: Path, url: str, timeout: float = 0.5) -> None:
    ai = (folder / "ai.yaml").read_text(encoding="utf-8")
    ai = ai.replace(
        "provider: offline\n",
        "provider: openai_compat\n"
        f"model:\n  base_url: {url}\n  name: kazi-sim\n  timeout_seconds: {timeout}\n"
        "  retries: 0\n  breaker: {failures: 2, cooldown_seconds: 600}\n",
    )
    (folder / "ai.yaml").write_text(ai, encoding="utf-8")


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


@pytest.fixture()
def model_shop(
    db: Engine, retail_copy: tuple[Path, str], simulator: AiSimulator
) -> Iterator[tuple[Shop, AiSimulator]]:
    config_dir, slug = retail_copy
    use_model(config_dir / slug, simulator.url)
    yield Shop(db, config_dir, slug), simulator


def test_offline_an_unanswered_message_is_classified_at_once_and_nothing_is_sent(
    shop: Shop,
) -> None:
    event = shop.customer_says("254722300001", "My phone is not charging since Monday, help?")
    assert (event.state, event.last_error) == ("processed", None)
    # Offline classification is pure: done in the inbound transaction, no job to queue.
    assert shop.rows(OutboxRow, OutboxRow.kind == CLASSIFY_KIND) == []
    results = {r.job: r for r in shop.rows(AiResult)}
    assert results["classify"].result["intent"] == "warranty"
    assert results["classify"].source == "offline"
    assert shop.tags() == [["warranty"]]
    firings = {f.rule_name for f in shop.rows(RuleFiring)}
    assert "Warranty questions in any words go to aftersales" in firings
    assert [r.kind for r in shop.rows(OutboxRow)] == []  # AI sent nothing, queued nothing


def test_a_message_a_rule_answered_is_not_classified(shop: Shop) -> None:
    shop.customer_says("254722300002", "Habari, bei ya TV ya inchi 55 ni ngapi?")
    assert shop.rows(AiResult) == []


def test_a_message_of_no_intent_is_kept_as_unclear_and_triggers_nothing(shop: Shop) -> None:
    shop.customer_says("254722300004", "Good morning")
    [classified] = shop.rows(AiResult, AiResult.job == "classify")
    assert classified.result["intent"] is None
    assert shop.tags() == [[]]


def test_classifying_twice_applies_once(model_shop: tuple[Shop, AiSimulator]) -> None:
    shop, _ = model_shop
    shop.customer_says("254722300003", "my phone is not charging")
    shop.run_classifications()
    [row] = shop.rows(OutboxRow, OutboxRow.kind == CLASSIFY_KIND)
    with workspace_session(shop.db, shop.workspace_id) as session:
        stored = session.get(OutboxRow, row.id)
        assert stored is not None
        stored.state = "queued"  # as if the worker died after doing the work
        session.commit()
    shop.run_classifications()
    assert len(shop.rows(AiResult, AiResult.job == "classify")) == 1
    fired = [f for f in shop.rows(RuleFiring) if f.rule_name.startswith("Warranty")]
    assert len(fired) == 1


@pytest.mark.parametrize("fault", ["500", "slow", "garbage"])
def test_with_the_model_down_inquiries_are_still_classified_offline(
    model_shop: tuple[Shop, AiSimulator], fault: str
) -> None:
    shop, simulator = model_shop
    simulator.set_fault(fault, delay=2)
    for n in range(3):
        shop.customer_says(f"25472230010{n}", "my phone is not charging at all")
    shop.run_classifications()

    rows = shop.rows(OutboxRow, OutboxRow.kind == CLASSIFY_KIND)
    assert [r.state for r in rows] == ["done"] * 3  # nothing piles up
    results = shop.rows(AiResult, AiResult.job == "classify")
    assert all(r.result["intent"] == "warranty" for r in results)
    assert all("model unavailable" in r.source for r in results)
    outcomes = [u.outcome for u in shop.rows(AiUsage)]
    # Two failed calls open the breaker; after that the model is not called at all.
    assert outcomes[:2] == ["failed", "failed"] and set(outcomes[2:]) == {"breaker_open"}
    assert all("warranty" in tags for tags in shop.tags())
    assert shop.rows(OutboxRow, OutboxRow.kind == SEND_KIND) == []


def test_with_the_model_up_it_classifies_and_its_calls_are_logged(
    model_shop: tuple[Shop, AiSimulator],
) -> None:
    shop, _ = model_shop
    shop.customer_says("254722300200", "my phone is not charging")
    shop.run_classifications()
    [result] = shop.rows(AiResult, AiResult.job == "classify")
    assert result.source == "model kazi-sim"
    assert {u.job for u in shop.rows(AiUsage)} == {"classify", "extract"}
    assert all(u.outcome == "ok" and u.latency_ms >= 0 for u in shop.rows(AiUsage))


def test_when_the_page_asked_first_the_job_still_feeds_the_rules(
    model_shop: tuple[Shop, AiSimulator],
) -> None:
    from engine.ai.page import ai_panel
    from engine.auth.principal import Principal, Role

    shop, simulator = model_shop
    shop.customer_says("254722300300", "my phone is not charging")
    [conversation] = shop.rows(Conversation)
    config = shop.configs.config(shop.rows_slug())
    assert config is not None
    manager = Principal(workspace_id=shop.workspace_id, role=Role.ADMIN, name="Boss")
    panel = ai_panel(shop.db, config, manager, conversation.id, shop.clock.now())
    assert panel.classification is not None and panel.classification.intent == "warranty"
    assert shop.tags() == [[]]  # the page only shows; the rules have not run yet
    calls = simulator.state.requests

    shop.run_classifications()
    assert simulator.state.requests == calls  # the page's answers were used, not asked again
    assert shop.tags() == [["warranty"]]
    assert len(shop.rows(AiResult, AiResult.job == "classify")) == 1
