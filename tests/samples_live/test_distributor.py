"""Pwani Fresh (the distributor sample) from an empty database, as it runs live: the order
pipeline must start from the outlet's first message (tests/samples_live/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.whatsapp.simulator.payloads import Business
from engine.models import Conversation, OutboxRow, Task, Team
from tests.samples_live.live import Live, live_sample

MONDAY_9_NAIROBI = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
SALES = Business("2040", "120394857601934", "254733905120")
WA_SECRET, ERP_SECRET = "pwani-wa-secret", "pwani-erp-secret"
OUTLET = "254722313131"


class Pwani(Live):
    def outlet_writes(self, text: str) -> None:
        self.customer_writes(OUTLET, "Mama Mboga", text, WA_SECRET)

    def erp_says(self, document: dict[str, object]) -> None:
        self.integration_says("order_system", document, ERP_SECRET)


@pytest.fixture()
def pwani(
    db: Engine, database_url: str, tmp_path: Path, repo_root: Path, queue_name: str
) -> Iterator[Pwani]:
    secrets = {
        "KAZI_DISTRIBUTOR_WA_APP_SECRET": WA_SECRET,
        "KAZI_DISTRIBUTOR_ERP_SIGNING_SECRET": ERP_SECRET,
    }
    with live_sample(
        "distributor",
        Pwani,
        number=SALES,
        secrets=secrets,
        start=MONDAY_9_NAIROBI,
        db=db,
        database_url=database_url,
        tmp_path=tmp_path,
        repo_root=repo_root,
        queue_name=queue_name,
    ) as live:
        yield live


def test_an_outlets_order_runs_from_first_message_to_payment(
    pwani: Pwani, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAZI_DISTRIBUTOR_ERP_SIGNING_SECRET", ERP_SECRET)
    pwani.outlet_writes("Habari, mimi ni Mama Mboga wa Kongowea")

    # The first message on the sales number starts an order in its pipeline.
    order = pwani.order()
    assert (order.kind, order.pipeline, order.stage) == ("order", "orders", "verification")
    [conversation] = pwani.rows(Conversation)
    [desk] = pwani.rows(Team, Team.id == conversation.team_id)
    assert desk.handle == "order_desk"
    assert any("Verify" in t.title for t in pwani.rows(Task))

    # The order desk verifies the outlet and moves the order on, through the API.
    moved = pwani.client.put(
        f"/api/v1/conversations/{conversation.id}/objects/{order.id}/stage",
        json={"stage": "capture", "expected_stage": "verification"},
        headers=pwani.api,
    )
    assert moved.status_code == 200, moved.text
    stale = pwani.client.put(
        f"/api/v1/conversations/{conversation.id}/objects/{order.id}/stage",
        json={"stage": "capture", "expected_stage": "verification"},
        headers=pwani.api,
    )
    assert stale.status_code == 409

    # The outlet's order is captured, acknowledged and reserved at the warehouse.
    pwani.runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    pwani.outlet_writes("Nataka cartons 10 za Kimbo na bales 2 za unga")
    order = pwani.order()
    assert order.stage == "stock_check"
    assert order.fields["items"] == "Nataka cartons 10 za Kimbo na bales 2 za unga"
    assert pwani.sends() == ["order_received"]
    calls = [r for r in pwani.rows(OutboxRow) if r.kind == "integration.call"]
    assert [c.payload["operation"] for c in calls] == ["reserve_stock"]

    # The warehouse confirms stock with the total: the outlet is asked to pay.
    reference = order.external_ref
    assert reference
    pwani.erp_says(
        {
            "id": "evt-1",
            "event": "order.stage_changed",
            "reference": reference,
            "data": {"status": "stock_confirmed", "total": 18400},
        }
    )
    order = pwani.order()
    assert (order.stage, str(order.amount)) in {("payment", "18400"), ("payment", "18400.0000")}
    # stock_confirmed names the outlet's account number, which nobody has entered yet:
    # it is held for staff to fill in, never sent with a blank.
    assert pwani.sends() == ["order_received"]
    held = [t for t in pwani.rows(Task) if t.held_send]
    assert [h.held_send["template"] for h in held] == ["stock_confirmed"]
    assert "contact.account_number" in held[0].held_send["missing"]
