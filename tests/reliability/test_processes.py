"""Real processes where a process dies (issue 4, item 6): a `kazi worker` killed with
SIGKILL in the middle of jobs, then restarted, loses nothing and sends nothing twice.

Leases and the sweeper's delays are shortened through their environment variables
(engine/jobs/timing.py) so recovery shows in seconds, not minutes.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connectors.whatsapp.simulator import ServerThread, Simulator, SimulatorConfig
from connectors.whatsapp.simulator import create_app as create_simulator_app
from connectors.whatsapp.simulator.script import Script
from engine.db import workspace_session
from engine.models import Conversation, InboundEvent, Message, OutboxRow
from engine.outbox.sends import queue_text
from tests.reliability.harness import ACCESS_TOKEN, APP_SECRET, SETTLED_INBOUND, SHOP
from tests.reliability.history import check_history, simulator_sends
from tests.reliability.processes import (
    free_port,
    kazi_env,
    start_kazi,
    stop,
    wait_for_server,
    wait_until,
)

pytestmark = pytest.mark.services

FAST_TIMINGS = {
    "KAZI_JOB_LEASE_SECONDS": "2",
    "KAZI_SWEEP_INTERVAL_SECONDS": "0.3",
    "KAZI_REENQUEUE_AFTER_SECONDS": "2",
}


@dataclass
class Processes:
    env: dict[str, str]
    db: Engine
    workspace_id: int
    simulator: Simulator
    simulator_url: str
    logs: Path
    server: subprocess.Popen[bytes] | None = None

    def worker(self) -> subprocess.Popen[bytes]:
        return start_kazi("worker", self.env, self.logs / "worker.log")

    def count(self, model: type, *conditions: object) -> int:
        with workspace_session(self.db, self.workspace_id) as session:
            query = select(func.count()).select_from(model).where(*conditions)  # type: ignore[arg-type]
            return int(session.scalar(query) or 0)


def process_env(
    database_url: str, redis_url: str | None, queue_name: str, tmp_path: Path, config_dir: Path
) -> dict[str, str]:
    env = kazi_env(
        KAZI_DATABASE_URL=database_url,
        KAZI_VAR_DIR=str(tmp_path / "var"),
        KAZI_CONFIG_DIR=str(config_dir),
        KAZI_QUEUE_NAME=queue_name,
        KAZI_BIND=f"127.0.0.1:{free_port()}",
        KAZI_RETAIL_WA_APP_SECRET=APP_SECRET,
        KAZI_RETAIL_WA_ACCESS_TOKEN=ACCESS_TOKEN,
        **FAST_TIMINGS,
    )
    if redis_url:
        env["KAZI_REDIS_URL"] = redis_url
    return env


@pytest.fixture()
def processes(
    database_url: str,
    redis_url: str | None,
    queue_name: str,
    tmp_path: Path,
    db: Engine,
    workspace: tuple[int, Path, str],
) -> Iterator[Processes]:
    workspace_id, config_dir, slug = workspace
    env = process_env(database_url, redis_url, queue_name, tmp_path, config_dir)
    simulator = Simulator(
        SimulatorConfig(
            app_secret=APP_SECRET,
            access_token=ACCESS_TOKEN,
            business=SHOP,
            webhook_url=f"http://{env['KAZI_BIND']}/webhooks/whatsapp/{slug}",
            status_delay=0.01,
            timeout_seconds=1.5,  # slow answers (under the client's 10 s): sends in flight
            max_attempts=12,
            retry_base=0.1,
            autostart=False,
        ),
        Script(customers=(), templates=()),
        seed=11,
    )
    with ServerThread(create_simulator_app(simulator)) as simulator_server:
        env["KAZI_WHATSAPP_API_URL"] = simulator_server.url
        logs = tmp_path / "logs"
        logs.mkdir()
        running = Processes(env, db, workspace_id, simulator, simulator_server.url, logs)
        running.server = start_kazi("serve", env, logs / "serve.log")
        try:
            wait_for_server(f"http://{env['KAZI_BIND']}", running.server, logs / "serve.log")
            yield running
        finally:
            stop(running.server)


def _customers_write(processes: Processes, first: int, count: int, text: str) -> None:
    import httpx

    for n in range(first, first + count):
        response = httpx.post(
            f"{processes.simulator_url}/_sim/customers/2547223{n:05d}/messages",
            json={"text": text},
            timeout=5,
        )
        assert response.status_code == 200, response.text


def test_a_worker_killed_mid_job_loses_nothing_and_sends_nothing_twice(
    processes: Processes,
) -> None:
    worker = processes.worker()
    try:
        _customers_write(processes, 0, 12, "Habari, is the order ready?")
        wait_until(
            lambda: (
                processes.count(Conversation) == 12
                and processes.count(InboundEvent, InboundEvent.state.not_in(SETTLED_INBOUND)) == 0
            ),
            30,
            "the first burst to be applied",
        )
        processes.simulator.faults.timeout = 1000  # every send hangs a while, until the kill
        with workspace_session(processes.db, processes.workspace_id) as session:
            now = datetime.now(UTC)
            replies = [
                queue_text(
                    session,
                    conversation_id=conversation_id,
                    body="Yes, ready for pickup",
                    author_teammate_id=None,
                    now=now,
                ).id
                for conversation_id in session.scalars(select(Conversation.id))
            ]
            session.commit()
        _customers_write(processes, 12, 12, "Me too, please")  # a burst while sending
        wait_until(
            lambda: (
                processes.count(Message, Message.delivery_state == "sending") >= 1
                and len(processes.simulator.sends) >= 1
            ),
            30,
            "sends in flight",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=5)
        in_flight = processes.count(Message, Message.delivery_state == "sending")
        assert in_flight >= 1, "the worker died in the middle of a send"
        processes.simulator.faults.timeout = 0  # answers come at once again

        worker = processes.worker()

        # A reply the dead worker had marked "sending" but never handed to WhatsApp stays
        # "outcome unknown" for a person to decide (resending could double it); every
        # other reply must be read.
        def unsettled_replies() -> int:
            return processes.count(
                Message,
                Message.id.in_(replies),
                Message.delivery_state != "read",
                Message.failure_code.is_distinct_from("unknown"),
            )

        def settled() -> bool:
            return (
                processes.count(InboundEvent, InboundEvent.state.not_in(SETTLED_INBOUND)) == 0
                and processes.count(OutboxRow, OutboxRow.state.in_(("queued", "sending"))) == 0
                and unsettled_replies() == 0
                and processes.count(Message, Message.direction == "inbound") == 24
            )

        wait_until(settled, 60, "everything to be applied and sent after the restart")
    finally:
        stop(worker)
    keys = sorted(s.callback_data or "" for s in processes.simulator.sends)
    assert len(keys) == len(set(keys)), "a reply was sent twice"
    with workspace_session(processes.db, processes.workspace_id) as session:
        unknown = set(
            session.scalars(
                select(Message.id).where(Message.id.in_(replies), Message.failure_code == "unknown")
            )
        )
    # Each reply reached WhatsApp once, except those the kill left unknown and unsent.
    assert keys == sorted(f"message:{i}" for i in replies if i not in unknown)
    wamids = [
        line.wamid
        for customer in processes.simulator.customers.values()
        for line in customer.chat
        if line.direction == "in"
    ]
    check_history(
        processes.db,
        processes.workspace_id,
        simulator_sends(processes.simulator.sends),
        delivered_wamids=wamids,
    )
