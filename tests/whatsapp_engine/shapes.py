"""A workspace that receives WhatsApp webhooks the way production does: a signed POST to
the real route stores the items, then the worker's job applies each stored event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.automation.inbound import automations_for
from engine.composition import Runtime, build_runtime
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.inbound.processing import process_inbound_event
from engine.models import InboundEvent
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from ui.app import create_app

SECRET = "shapes-test-secret"
# The retail sample's one number (configs/retail/workspace.yaml).
SHOP = Business("102290129340398", "104729384756101", "254711502300")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())


@dataclass
class Shop:
    client: TestClient
    runtime: Runtime
    db: Engine
    workspace_id: int

    def deliver(self, body: dict[str, Any]) -> list[InboundEvent]:
        """POST the body signed, then run the worker's job on every event it stored;
        the stored events, as the worker left them."""
        raw = json.dumps(body).encode()
        response = self.client.post(
            f"/webhooks/whatsapp/{self.client.headers['X-Test-Workspace']}",
            content=raw,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(raw, SECRET)},
        )
        assert response.status_code == 200, response.text
        with workspace_session(self.db, self.workspace_id) as session:
            waiting = list(
                session.scalars(
                    select(InboundEvent.id)
                    .where(InboundEvent.state == "received")
                    .order_by(InboundEvent.id)
                )
            )
        for event_id in waiting:
            process_inbound_event(
                event_id=event_id,
                db=self.db,
                clock=self.runtime.clock,
                handlers=self.runtime.inbound_handlers,
                automations=automations_for(self.runtime.configs),
            )
        return self.rows(InboundEvent)

    def says(self, wamid: str, wa_id: str, text: str, at: int = EPOCH) -> list[InboundEvent]:
        message = {
            "from": wa_id,
            "id": wamid,
            "timestamp": str(at),
            "type": "text",
            "text": {"body": text},
        }
        return self.deliver(message_webhook(SHOP, wa_id, "Achieng", message))

    def message(self, message: dict[str, Any], wa_id: str = "254722000001") -> list[InboundEvent]:
        return self.deliver(message_webhook(SHOP, wa_id, "Achieng", message))

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))


@pytest.fixture()
def shop(
    database_url: str, db: Engine, retail_copy: tuple[Path, str], tmp_path: Path, queue_name: str
) -> Iterator[Shop]:
    config_dir, slug = retail_copy
    workspace_id = load_folder(db, config_dir / slug, NOW)
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    runtime.configs = ConfigDirectory(
        settings.config_dir,
        env={"KAZI_RETAIL_WA_APP_SECRET": SECRET, "KAZI_RETAIL_WA_VERIFY_TOKEN": "let-me-in"},
    )
    with TestClient(create_app(runtime)) as client:
        client.headers["X-Test-Workspace"] = slug
        yield Shop(client, runtime, db, workspace_id)
