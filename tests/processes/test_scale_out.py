"""Scale-out (issue 11, item 4): `kazi serve --processes 2` and `kazi worker --processes 2`
on PostgreSQL + Redis apply every webhook once, even when a worker process is killed;
on SQLite both refuse more than one process with a clear message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.db import workspace_session
from engine.models import InboundEvent, Message
from tests.conftest import BACKEND, SERVER_START_SECONDS
from tests.processes.test_serve_and_worker import (
    APP_SECRET,
    _answers,
    environment,  # noqa: F401 (a fixture)
    retail,  # noqa: F401 (a fixture)
    stop,
    wait_until,
)

SHOP = Business("1020", "104729384756101", "254711502300")


def kazi(env: dict[str, str], log: Path, *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *arguments],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in found.split()]


def webhook(n: int) -> bytes:
    wa_id = f"2547225{n % 12:05d}"  # twelve customers, several messages each
    return json.dumps(
        message_webhook(
            SHOP,
            wa_id,
            f"Customer {n % 12}",
            {
                "from": wa_id,
                "id": f"wamid.scale-{n}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": f"Order {n}: is it ready?"},
            },
        )
    ).encode()


def post(base: str, slug: str, body: bytes) -> None:
    answer = httpx.post(
        f"{base}/webhooks/whatsapp/{slug}",
        content=body,
        headers={SIGNATURE_HEADER: sign(body, APP_SECRET), "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.services
@pytest.mark.skipif(BACKEND != "postgres", reason="several processes need PostgreSQL + Redis")
def test_two_servers_and_two_workers_apply_every_webhook_once(
    environment: dict[str, str],  # noqa: F811
    retail: tuple[Engine, int, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, workspace_id, slug = retail
    env = {
        **environment,
        # A killed worker's claimed events come back within seconds, not minutes.
        "KAZI_JOB_LEASE_SECONDS": "5",
        "KAZI_SWEEP_INTERVAL_SECONDS": "1",
        "KAZI_REENQUEUE_AFTER_SECONDS": "3",
    }
    base = f"http://{env['KAZI_BIND']}"
    server = kazi(env, tmp_path / "serve.log", "serve", "--processes", "2")
    worker = kazi(env, tmp_path / "worker.log", "worker", "--processes", "2", "--threads", "2")
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), SERVER_START_SECONDS, "kazi serve")
        wait_until(
            lambda: len(children(worker.pid)) == 2, SERVER_START_SECONDS, "two worker processes"
        )
        assert len(children(server.pid)) >= 2, "uvicorn runs two server processes"
        for n in range(30):
            post(base, slug, webhook(n))
        # A worker process dies mid-load; its supervisor starts another.
        killed = children(worker.pid)[0]
        os.kill(killed, signal.SIGKILL)
        for n in range(30, 60):
            post(base, slug, webhook(n))
        for n in range(0, 60, 6):  # Meta retries: the same webhook again
            post(base, slug, webhook(n))

        def applied() -> bool:
            with workspace_session(db, workspace_id) as session:
                states = session.scalars(select(InboundEvent.state)).all()
                return len(states) == 60 and set(states) == {"processed"}

        wait_until(applied, 180, "every webhook applied")
        restarted = children(worker.pid)
        assert len(restarted) == 2 and killed not in restarted
        with workspace_session(db, workspace_id) as session:
            wamids = session.scalars(
                select(Message.provider_message_id).where(Message.direction == "inbound")
            ).all()
        counts = Counter(wamids)
        assert set(counts) == {f"wamid.scale-{n}" for n in range(60)}
        assert set(counts.values()) == {1}, "every message stored exactly once"
    finally:
        stop(server)
        stop(worker)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert not children(worker.pid)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_more_than_one_process_on_sqlite_is_refused_clearly(
    command: str, tmp_path: Path, repo_root: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAZI_")}
    env.update(
        KAZI_DATABASE_URL=f"sqlite:///{tmp_path / 'kazi.sqlite3'}",
        KAZI_VAR_DIR=str(tmp_path / "var"),
        KAZI_CONFIG_DIR=str(repo_root / "configs"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", command, "--processes", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"kazi {command}: --processes 3 needs PostgreSQL and Redis" in done.stderr
    assert "--processes 1" in done.stderr
