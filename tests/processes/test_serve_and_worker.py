"""Real processes: `kazi serve` stores and enqueues, `kazi worker` runs the job.

On the PostgreSQL run the queue is real Redis; on the SQLite run it is huey's
SQLite storage shared by the two processes through a file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.db import make_engine, migrate, workspace_session
from engine.models import Contact, InboundEvent, Message
from engine.workspaces.load import load_folder
from tests.conftest import SERVER_START_SECONDS

pytestmark = pytest.mark.services

APP_SECRET = "process-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture()
def environment(
    database_url: str,
    redis_url: str | None,
    queue_name: str,
    tmp_path: Path,
    retail_copy: tuple[Path, str],
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KAZI_") or key.startswith("KAZI_TEST_")
    }
    env.update(
        KAZI_DATABASE_URL=database_url,
        KAZI_VAR_DIR=str(tmp_path / "var"),
        KAZI_CONFIG_DIR=str(retail_copy[0]),
        KAZI_QUEUE_NAME=queue_name,
        KAZI_BIND=f"127.0.0.1:{free_port()}",
        KAZI_RETAIL_WA_APP_SECRET=APP_SECRET,
    )
    if redis_url:
        env["KAZI_REDIS_URL"] = redis_url
    return env


@pytest.fixture()
def retail(
    environment: dict[str, str], retail_copy: tuple[Path, str]
) -> Iterator[tuple[Engine, int, str]]:
    migrate(environment["KAZI_DATABASE_URL"])
    db = make_engine(environment["KAZI_DATABASE_URL"])
    config_dir, slug = retail_copy
    workspace_id = load_folder(db, config_dir / slug, datetime.now(UTC))
    yield db, workspace_id, slug
    db.dispose()


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", command],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_the_worker_runs_what_the_server_enqueued(
    environment: dict[str, str], retail: tuple[Engine, int, str], tmp_path: Path
) -> None:
    db, workspace_id, slug = retail
    base = f"http://{environment['KAZI_BIND']}"
    server = start("serve", environment, tmp_path / "serve.log")
    worker = None
    try:
        wait_until(
            lambda: _answers(f"{base}/healthz"), SERVER_START_SECONDS, "kazi serve to answer"
        )
        body = json.dumps(
            message_webhook(
                Business("1020", "104729384756101", "254711502300"),
                "254722555001",
                "Wanjiku",
                {
                    "from": "254722555001",
                    "id": "wamid.process-test-1",
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": "Do you deliver to Thika?"},
                },
            )
        ).encode()
        unsigned = httpx.post(f"{base}/webhooks/whatsapp/{slug}", content=body, timeout=10)
        assert unsigned.status_code == 401
        response = httpx.post(
            f"{base}/webhooks/whatsapp/{slug}",
            content=body,
            headers={SIGNATURE_HEADER: sign(body, APP_SECRET), "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == 1

        # The server only stored it: nothing is applied until a worker runs the job.
        with workspace_session(db, workspace_id) as session:
            assert session.scalars(select(InboundEvent.state)).all() == ["received"]
            assert session.scalars(select(Message)).all() == []

        worker = start("worker", environment, tmp_path / "worker.log")

        def applied() -> bool:
            with workspace_session(db, workspace_id) as session:
                return session.scalars(select(InboundEvent.state)).all() == ["processed"]

        wait_until(applied, SERVER_START_SECONDS, "kazi worker to start and process the event")
        with workspace_session(db, workspace_id) as session:
            message = session.scalars(select(Message)).one()
            contact = session.scalars(select(Contact)).one()
        assert message.body == "Do you deliver to Thika?"
        assert contact.profile_name == "Wanjiku"
    finally:
        stop(server)
        if worker is not None:
            stop(worker)
    assert server.returncode in (0, -15), (tmp_path / "serve.log").read_text()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
