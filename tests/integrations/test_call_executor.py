"""The outbox executor behind `call integration "order_system" operation "reserve_stock"`."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from connectors.webhook.client import Delivery
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.integrations.calls import CALL_KIND, make_call_executor
from engine.models import Contact, Conversation, OutboxRow
from engine.outbox.dispatch import dispatch_outbox_row
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET_VARIABLE = "KAZI_DISTRIBUTOR_ERP_SIGNING_SECRET"


@pytest.fixture()
def distributor(db: Engine, tmp_path: Path, repo_root: Path) -> tuple[ConfigDirectory, int]:
    slug = f"distributor_{uuid.uuid4().hex[:8]}"
    shutil.copytree(repo_root / "configs" / "distributor", tmp_path / slug)
    workspace_file = tmp_path / slug / "workspace.yaml"
    workspace_file.write_text(
        workspace_file.read_text().replace("\nslug: distributor\n", f"\nslug: {slug}\n")
    )
    return ConfigDirectory(tmp_path), load_folder(db, tmp_path / slug, NOW)


def queue_call(db: Engine, workspace_id: int) -> int:
    with workspace_session(db, workspace_id) as session:
        contact = Contact(name="Mama Mboga Kiosk", fields={})
        session.add(contact)
        session.flush()
        conversation = Conversation(
            contact_id=contact.id, business_number="+254733905120", opened_at=NOW
        )
        session.add(conversation)
        session.flush()
        row = OutboxRow(
            kind=CALL_KIND,
            payload={
                "integration": "order_system",
                "operation": "reserve_stock",
                "conversation_id": conversation.id,
                "rule": "Reserve stock for a captured order",
            },
            idempotency_key=f"rule:reserve:{conversation.id}:0",
            conversation_id=conversation.id,
            next_attempt_at=NOW,
        )
        session.add(row)
        session.commit()
        return row.id


def run(
    db: Engine, workspace_id: int, configs: ConfigDirectory, answer: Delivery
) -> tuple[OutboxRow, list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def send(url: str, document: dict[str, Any], **options: Any) -> Delivery:
        calls.append({"url": url, "document": document, **options})
        return answer

    executor = make_call_executor(configs, env={SECRET_VARIABLE: "erp-secret"}, send=send)
    row_id = queue_call(db, workspace_id)
    dispatch_outbox_row(
        row_id=row_id, db=db, clock=FrozenClock(NOW), executors={CALL_KIND: executor}
    )
    with workspace_session(db, workspace_id) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        return row, calls


def test_the_call_goes_to_the_configured_url_signed_with_the_conversation(
    db: Engine, distributor: tuple[ConfigDirectory, int]
) -> None:
    configs, workspace_id = distributor
    row, [call] = run(db, workspace_id, configs, Delivery(True, False, "delivered", 200))
    assert row.state == "done"
    assert call["url"] == "https://erp.pwanifresh.co.ke/api/kazi/orders"
    assert (call["secret"], call["timeout"], call["allow_private"]) == ("erp-secret", 15.0, False)
    assert call["idempotency_key"] == row.idempotency_key
    document = call["document"]
    assert document["operation"] == "reserve_stock"
    assert document["conversation"]["number"] == "sales"
    assert document["contact"]["name"] == "Mama Mboga Kiosk"


def test_a_refusing_system_is_retried_only_when_it_may_help(
    db: Engine, distributor: tuple[ConfigDirectory, int]
) -> None:
    configs, workspace_id = distributor
    row, _ = run(db, workspace_id, configs, Delivery(False, True, "HTTP 503", 503))
    assert (row.state, row.last_error) == ("queued", "order_system: HTTP 503")
    row, _ = run(db, workspace_id, configs, Delivery(False, False, "HTTP 400", 400))
    assert (row.state, row.last_error) == ("failed", "order_system: HTTP 400")
