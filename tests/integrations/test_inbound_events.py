"""An order system moves an order's stage: a signed integration event reaches the rules."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from connectors.webhook.signing import SIGNATURE_HEADER, signature
from engine.automation.inbound import automations_for
from engine.composition import Runtime, build_runtime
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.inbound.processing import process_inbound_event
from engine.models import (
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    InboundEvent,
    OutboxRow,
)
from engine.settings import Settings
from engine.whatsapp.webhook import workspace_id_for
from engine.workspaces.load import load_folder
from ui.app import create_app

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "erp-secret"


@pytest.fixture()
def stack(
    db: Engine, database_url: str, tmp_path: Path, repo_root: Path, queue_name: str
) -> Iterator[tuple[TestClient, Runtime, str, int]]:
    slug = f"distributor_{uuid.uuid4().hex[:8]}"
    shutil.copytree(repo_root / "configs" / "distributor", tmp_path / "configs" / slug)
    workspace_file = tmp_path / "configs" / slug / "workspace.yaml"
    workspace_file.write_text(
        workspace_file.read_text().replace("\nslug: distributor\n", f"\nslug: {slug}\n")
    )
    load_folder(db, tmp_path / "configs" / slug, NOW)
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(tmp_path / "configs"),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    with workspace_session(db, _workspace_id(db, slug)) as session:
        contact = Contact(
            name="Mama Mboga Kiosk", fields={"kra_pin": "A123", "account_number": "MM-001"}
        )
        session.add(contact)
        session.flush()
        conversation = Conversation(
            contact_id=contact.id, business_number="+254733905120", opened_at=NOW
        )
        session.add(conversation)
        session.flush()
        order = BusinessObject(
            kind="order",
            external_ref="PF-1042",
            status="open",
            amount=Decimal("12500"),
            currency="KES",
            contact_id=contact.id,
            pipeline="orders",
            stage="stock_check",
            fields={"on_credit": False},
        )
        session.add(order)
        session.flush()
        session.add(
            BusinessObjectLink(business_object_id=order.id, conversation_id=conversation.id)
        )
        session.commit()
        order_id = order.id
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, slug, order_id


def _workspace_id(db: Engine, slug: str) -> int:
    found = workspace_id_for(db, slug)
    assert found is not None
    return found


def post(client: TestClient, slug: str, document: object, secret: str = SECRET) -> int:
    body = json.dumps(document).encode()
    headers = {SIGNATURE_HEADER: signature(body, secret, int(NOW.timestamp()))}
    response = client.post(
        f"/webhooks/integrations/{slug}/order_system", content=body, headers=headers
    )
    return response.status_code


def test_a_signed_stage_change_moves_the_order_and_the_rules_act(
    stack: tuple[TestClient, Runtime, str, int], db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, runtime, slug, order_id = stack
    monkeypatch.setenv("KAZI_DISTRIBUTOR_ERP_SIGNING_SECRET", SECRET)
    event = {
        "id": "evt-77",
        "event": "order.stage_changed",
        "reference": "PF-1042",
        "data": {"status": "stock_confirmed", "total": 12500},
    }
    assert post(client, slug, event, secret="forged") == 401
    assert post(client, slug, event) == 200
    assert post(client, slug, event) == 200  # redelivered: stored once
    workspace_id = _workspace_id(db, slug)
    with workspace_session(db, workspace_id) as session:
        [stored] = session.scalars(select(InboundEvent)).all()
    process_inbound_event(
        event_id=stored.id,
        db=db,
        clock=runtime.clock,
        handlers=runtime.inbound_handlers,
        automations=automations_for(runtime.configs),
    )
    with workspace_session(db, workspace_id) as session:
        order = session.get(BusinessObject, order_id)
        assert order is not None
        assert (order.stage, order.fields.get("stock_confirmed")) == ("payment", True)
        rows = session.scalars(select(OutboxRow)).all()
        sent = [r.payload.get("name") for r in rows if r.kind == "whatsapp.send"]
        assert sent == ["stock_confirmed"]
        assert session.get(InboundEvent, stored.id).state == "processed"  # type: ignore[union-attr]
