"""A sample workspace from an empty database, driven the way production drives it.

Every step enters as it does live: WhatsApp webhooks signed and posted to the route, an
integration's event signed and posted to its route, the worker's processing of each stored
event, and staff working through the API. Nothing is seeded but the config folder.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from litestar.testing import TestClient
from sqlalchemy import Engine, select

from connectors.webhook.signing import SIGNATURE_HEADER as INTEGRATION_SIGNATURE
from connectors.webhook.signing import signature
from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.auth import Role, create_api_token
from engine.automation.inbound import automations_for
from engine.composition import Runtime, build_runtime
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.inbound.processing import process_inbound_event
from engine.models import BusinessObject, InboundEvent, OutboxRow
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from ui.app import create_app


class Live:
    def __init__(
        self,
        client: TestClient,
        runtime: Runtime,
        db: Engine,
        slug: str,
        number: Business,
        secrets: dict[str, str],
    ) -> None:
        self.client, self.runtime, self.db, self.slug = client, runtime, db, slug
        self.number, self.secrets = number, secrets
        self.workspace_id = load_folder(db, runtime.settings.config_dir / slug, self.now)
        token = create_api_token(
            db, workspace_id=self.workspace_id, role=Role.MANAGER, label="desk", now=self.now
        )
        self.api = {"Authorization": f"Bearer {token}"}
        self.sequence = 0

    @property
    def now(self) -> datetime:
        return self.runtime.clock.now()

    def customer_writes(self, wa_id: str, name: str, text: str, app_secret: str) -> None:
        self.sequence += 1
        message = {
            "from": wa_id,
            "id": f"wamid.live-{self.slug}-{self.sequence}",
            "timestamp": str(int(self.now.timestamp())),
            "type": "text",
            "text": {"body": text},
        }
        body = json.dumps(message_webhook(self.number, wa_id, name, message)).encode()
        response = self.client.post(
            f"/webhooks/whatsapp/{self.slug}",
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, app_secret)},
        )
        assert response.status_code == 200, response.text
        self.work()

    def integration_says(self, name: str, document: dict[str, Any], secret: str) -> None:
        body = json.dumps(document).encode()
        headers = {INTEGRATION_SIGNATURE: signature(body, secret, int(self.now.timestamp()))}
        response = self.client.post(
            f"/webhooks/integrations/{self.slug}/{name}", content=body, headers=headers
        )
        assert response.status_code == 200, response.text
        self.work()

    def work(self) -> None:
        """What a worker does with every event the routes stored."""
        with workspace_session(self.db, self.workspace_id) as session:
            ready = session.scalars(
                select(InboundEvent.id).where(InboundEvent.state == "received")
            ).all()
        for event_id in ready:
            process_inbound_event(
                event_id=event_id,
                db=self.db,
                clock=self.runtime.clock,
                handlers=self.runtime.inbound_handlers,
                automations=automations_for(self.runtime.configs),
            )

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))

    def order(self) -> BusinessObject:
        [order] = self.rows(BusinessObject)
        return order

    def sends(self) -> list[str]:
        return [r.payload.get("name") for r in self.rows(OutboxRow) if r.kind == "whatsapp.send"]


L = TypeVar("L", bound=Live)


@contextmanager
def live_sample(
    sample: str,
    harness: type[L],
    *,
    number: Business,
    secrets: dict[str, str],
    start: datetime,
    db: Engine,
    database_url: str,
    tmp_path: Path,
    repo_root: Path,
    queue_name: str,
) -> Iterator[L]:
    """The sample's folder under a slug of this test's own, served by a real app."""
    slug = f"{sample}_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "configs" / slug
    shutil.copytree(repo_root / "configs" / sample, folder)
    workspace_file = folder / "workspace.yaml"
    workspace_file.write_text(
        workspace_file.read_text().replace(f"\nslug: {sample}\n", f"\nslug: {slug}\n")
    )
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(tmp_path / "configs"),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(start))
    runtime.configs = ConfigDirectory(settings.config_dir, env=secrets)
    with TestClient(create_app(runtime)) as client:
        yield harness(client, runtime, db, slug, number, secrets)
