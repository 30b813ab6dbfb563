"""Duka Bora (the retail sample) from an empty database, as it runs live: a price question
opens an order, staff fill it in and quote from it, and the customer's yes moves the deal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.whatsapp.simulator.payloads import Business
from engine.db import workspace_session
from engine.models import Conversation, OutboxRow, ScheduledAction, Task
from tests.samples_live.live import Live, live_sample
from ui.cli import main

TUESDAY_10_NAIROBI = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
SHOP = Business("1020", "104729384756101", "254711502300")
WA_SECRET = "duka-wa-secret"
BUYER = "254722414141"


class Duka(Live):
    def buyer_writes(self, text: str) -> None:
        self.customer_writes(BUYER, "Wanjiku", text, WA_SECRET)


@pytest.fixture()
def duka(
    db: Engine, database_url: str, tmp_path: Path, repo_root: Path, queue_name: str
) -> Iterator[Duka]:
    with live_sample(
        "retail",
        Duka,
        number=SHOP,
        secrets={"KAZI_RETAIL_WA_APP_SECRET": WA_SECRET},
        start=TUESDAY_10_NAIROBI,
        db=db,
        database_url=database_url,
        tmp_path=tmp_path,
        repo_root=repo_root,
        queue_name=queue_name,
    ) as live:
        yield live


def test_a_price_question_becomes_a_quote_from_its_order_and_a_yes_moves_it(
    duka: Duka, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    duka.buyer_writes("Habari, bei ya TV ya inchi 55 ni ngapi?")
    [conversation] = duka.rows(Conversation)
    assert (conversation.pipeline, conversation.stage) == ("sales", "inquiry")
    with workspace_session(duka.db, duka.workspace_id) as session:
        tags = session.get(Conversation, conversation.id).tag_names  # type: ignore[union-attr]
    assert "price-asked" in tags
    order = duka.order()
    assert order.kind == "order" and order.external_ref
    assert any("quote" in t.title for t in duka.rows(Task))

    # Quoting before the order says what it holds is held back, never sent with blanks.
    url = f"/api/v1/conversations/{conversation.id}"
    early = duka.client.put(
        f"{url}/stage", json={"stage": "quote", "expected_stage": "inquiry"}, headers=duka.api
    )
    assert early.status_code == 200, early.text
    assert duka.sends() == []
    [held] = [t for t in duka.rows(Task) if t.held_send]
    assert set(held.held_send["missing"]) >= {"order.items", "order.amount"}

    # Staff fill in the order, go back a step and quote again: now it goes, with the items.
    filled = duka.client.patch(
        f"{url}/objects/{order.id}",
        json={"amount": "64999", "fields": {"items": "Hisense 55in 4K TV"}},
        headers=duka.api,
    )
    assert filled.status_code == 200, filled.text
    assert filled.json()["fields"]["items"] == "Hisense 55in 4K TV"
    for stage, expected in (("inquiry", "quote"), ("quote", "inquiry")):
        moved = duka.client.put(
            f"{url}/stage", json={"stage": stage, "expected_stage": expected}, headers=duka.api
        )
        assert moved.status_code == 200, moved.text
    assert duka.sends() == ["quote_ready"]
    [quote] = [r for r in duka.rows(OutboxRow) if r.kind == "whatsapp.send"]
    assert "Hisense 55in 4K TV" in str(quote.payload) and "64999" in str(quote.payload)
    chases = duka.rows(ScheduledAction, ScheduledAction.state == "pending")
    # One chase per time the quote stage was entered; each checks "stage changed" when due.
    assert [c.rule_name for c in chases] == ["Send the quote", "Send the quote"]

    # The customer takes it: the deal moves to payment and the chase is no longer due.
    duka.runtime.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
    duka.buyer_writes("Sawa, nataka")
    [conversation] = duka.rows(Conversation)
    assert conversation.stage == "payment"

    # Why it moved, from the traces the worker stored, as a consultant reads it.
    monkeypatch.setenv("KAZI_DATABASE_URL", duka.runtime.settings.database_url)
    assert (
        main(
            ["explain", "--trace", "--workspace", duka.slug, "--conversation", str(conversation.id)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "message received" in out and "fired    Customer accepts the quote" in out
    assert "no       Price questions are tagged for sales: false:" in out
