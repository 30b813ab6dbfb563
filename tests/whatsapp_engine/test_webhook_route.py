"""POST /webhooks/whatsapp/{workspace}: verify, store raw, answer; GET: the handshake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.composition import Runtime, build_runtime
from engine.db import workspace_session
from engine.models import InboundEvent
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from ui.app import create_app

SECRET = "route-test-secret"
BODY = json.dumps(
    message_webhook(
        Business("1020", "104729384756101", "254711502300"),
        "254722777001",
        "Otieno",
        {
            "from": "254722777001",
            "id": "wamid.route-1",
            "timestamp": "1764061200",
            "type": "text",
            "text": {"body": "Niko na swali"},
        },
    )
).encode()


@pytest.fixture()
def client(
    database_url: str,
    db: Engine,
    retail_copy: tuple[Path, str],
    tmp_path: Path,
    queue_name: str,
) -> Iterator[tuple[TestClient, int, Runtime]]:
    config_dir, slug = retail_copy
    workspace_id = load_folder(db, config_dir / slug, datetime.now(UTC))
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings)
    # The secrets the retail config names, as this test's environment.
    runtime.configs = ConfigDirectory(
        settings.config_dir,
        env={"KAZI_RETAIL_WA_APP_SECRET": SECRET, "KAZI_RETAIL_WA_VERIFY_TOKEN": "let-me-in"},
    )
    with TestClient(create_app(runtime)) as test_client:
        test_client.headers["X-Test-Workspace"] = slug  # read by webhook_url below
        yield test_client, workspace_id, runtime


def stored(db: Engine, workspace_id: int) -> list[tuple[str, str]]:
    with workspace_session(db, workspace_id) as session:
        return [(e.state, e.dedup_key) for e in session.scalars(select(InboundEvent))]


def webhook_url(client: TestClient) -> str:
    return f"/webhooks/whatsapp/{client.headers['X-Test-Workspace']}"


def post(client: TestClient, body: bytes, signature: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = client.post(webhook_url(client), content=body, headers=headers)
    return response.status_code, response.json()


def test_a_signed_webhook_is_stored_once_and_answered(
    client: tuple[TestClient, int, Runtime], db: Engine
) -> None:
    test_client, workspace_id, _ = client
    assert post(test_client, BODY, sign(BODY, SECRET))[0] == 200
    status, answer = post(test_client, BODY, sign(BODY, SECRET))
    assert (status, answer["stored"], answer["duplicates"]) == (200, 0, 1)
    assert stored(db, workspace_id) == [("received", "whatsapp:message:wamid.route-1")]


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, sign(BODY, "another-secret"), sign(BODY + b" ", SECRET)],
    ids=["missing", "zeros", "wrong-secret", "other-body"],
)
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_not_stored(
    client: tuple[TestClient, int, Runtime], db: Engine, signature: str | None
) -> None:
    test_client, workspace_id, _ = client
    assert post(test_client, BODY, signature)[0] == 401
    assert stored(db, workspace_id) == []


def test_a_workspace_without_a_secret_refuses_everything(
    client: tuple[TestClient, int, Runtime], db: Engine
) -> None:
    test_client, workspace_id, runtime = client
    runtime.configs = ConfigDirectory(runtime.settings.config_dir, env={})  # no secret set
    assert post(test_client, BODY, sign(BODY, SECRET))[0] == 401
    assert stored(db, workspace_id) == []


def test_a_malformed_but_authentic_body_is_stored_and_flagged(
    client: tuple[TestClient, int, Runtime], db: Engine
) -> None:
    test_client, workspace_id, _ = client
    body = b'{"object": "whatsapp_business_account", "entry": [ this is not json'
    status, answer = post(test_client, body, sign(body, SECRET))
    assert (status, answer["flagged"]) == (200, 1)
    [(state, key)] = stored(db, workspace_id)
    assert state == "flagged" and key.startswith("whatsapp:malformed:")


def test_the_verification_handshake_echoes_the_challenge(
    client: tuple[TestClient, int, Runtime],
) -> None:
    test_client, _, _ = client
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "let-me-in",
        "hub.challenge": "1158201444",
    }
    answer = test_client.get(webhook_url(test_client), params=params)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    params["hub.verify_token"] = "guess"
    assert test_client.get(webhook_url(test_client), params=params).status_code == 403


def test_an_unknown_workspace_is_not_found(client: tuple[TestClient, int, Runtime]) -> None:
    test_client, _, _ = client
    response = test_client.post("/webhooks/whatsapp/nobody", content=BODY)
    assert response.status_code == 404
