"""A whole Kazi on loopback for the reliability tests.

`Stack` serves the real Litestar app with uvicorn in a thread, points the
WhatsApp simulator (also served in a thread) at its webhook route, and plays the
worker itself: it runs queued huey jobs and the real sweeper in the test thread,
on a clock that jumps ahead instead of sleeping through backoffs and leases.
Tests that kill a worker use real `kazi serve` / `kazi worker` processes instead
(see `processes.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from connectors.whatsapp.client import CloudApiSender
from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator import ServerThread, Simulator, SimulatorConfig
from connectors.whatsapp.simulator import create_app as create_simulator_app
from connectors.whatsapp.simulator.payloads import Business
from connectors.whatsapp.simulator.script import Script
from engine.composition import Runtime, build_runtime
from engine.core.messaging import MessageSender, OutboundMessage, SendResult
from engine.db import workspace_session
from engine.jobs.sweeper import sweep_once
from engine.models import InboundEvent, Message, OutboxRow
from engine.settings import Settings
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from engine.workspaces.directory import ConfigDirectory
from ui.app import create_app

APP_SECRET = "reliability-app-secret"
ACCESS_TOKEN = "reliability-access-token"
SHOP = Business("102938475610293", "104729384756101", "254711502300")
SETTLED_INBOUND = ("processed", "failed", "flagged")
SETTLED_OUTBOX = ("done", "failed")


class WorkerKilled(BaseException):
    """Stands for SIGKILL inside the test process: nothing after it runs, no handler sees it."""


class ShiftedClock:
    """The system clock plus an offset the driver pushes forward, so backoffs, leases
    and the sweeper's re-enqueue delay pass at once while real time still runs."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def signed_post(url: str, body: bytes, secret: str | None = APP_SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    return httpx.post(url, content=body, headers=headers, timeout=10)


def encode(document: dict[str, Any]) -> bytes:
    """A webhook body as Meta serialises it (non-ASCII escaped)."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


@dataclass
class Stack:
    db: Engine
    workspace_id: int
    slug: str
    runtime: Runtime
    clock: ShiftedClock
    kazi: ServerThread
    simulator: Simulator
    simulator_server: ServerThread
    kill_after_next_send: bool = False  # the next send reaches WhatsApp, then the worker dies

    @property
    def webhook_url(self) -> str:
        return f"{self.kazi.url}/webhooks/whatsapp/{self.slug}"

    @property
    def simulator_url(self) -> str:
        return self.simulator_server.url

    def post(
        self, document: dict[str, Any] | bytes, secret: str | None = APP_SECRET
    ) -> httpx.Response:
        body = document if isinstance(document, bytes) else encode(document)
        return signed_post(self.webhook_url, body, secret)

    def faults(self, spec: str) -> None:
        response = httpx.post(f"{self.simulator_url}/_sim/faults", json={"spec": spec}, timeout=5)
        assert response.status_code == 200, response.text

    def customer_says(self, wa_id: str, step: dict[str, Any]) -> str:
        """A simulated customer writes; its signed webhook goes to Kazi in the background."""
        response = httpx.post(
            f"{self.simulator_url}/_sim/customers/{wa_id}/messages", json=step, timeout=5
        )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def run_jobs(self) -> int:
        """Run every job waiting in the huey queue, as a worker would; say how many."""
        huey = self.runtime.huey
        ran = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    def drain(self, until: Callable[[], bool], timeout: float = 45.0) -> None:
        """Work (jobs, then the sweeper) until `until()` holds; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            ran = self.run_jobs()
            if until():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"work did not settle in {timeout}s: {self.backlog()}")
            report = sweep_once(self.db, self.runtime.queue, self.clock.now())
            if not ran and not report.inbound_events and not report.outbox_rows:
                # Nothing due: let webhooks in flight land, and let time "pass".
                time.sleep(0.05)
                self.clock.advance(timedelta(seconds=61))

    def backlog(self) -> dict[str, int]:
        with workspace_session(self.db, self.workspace_id) as session:
            inbound = session.execute(
                select(InboundEvent.state, func.count()).group_by(InboundEvent.state)
            ).all()
            outbox = session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            ).all()
        return {f"inbound {s}": n for s, n in inbound} | {f"outbox {s}": n for s, n in outbox}

    def settled(self) -> bool:
        """No inbound event or outbox row is still owed work."""
        with workspace_session(self.db, self.workspace_id) as session:
            open_inbound = session.scalar(
                select(func.count())
                .select_from(InboundEvent)
                .where(InboundEvent.state.not_in(SETTLED_INBOUND))
            )
            open_outbox = session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.state.not_in(SETTLED_OUTBOX))
            )
        return not open_inbound and not open_outbox

    def messages(self) -> list[Message]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(Message).order_by(Message.id)))


def build_stack(
    *,
    database_url: str,
    redis_url: str | None,
    queue_name: str,
    var_dir: Path,
    config_dir: Path,
    slug: str,
    db: Engine,
    workspace_id: int,
    send_timeout: float = 1.5,  # short, so a timeout storm is cheap; long enough under load
) -> Stack:
    """Start the simulator and Kazi's web app on free loopback ports; stop with `stop_stack`."""
    env = {
        "KAZI_DATABASE_URL": database_url,
        "KAZI_VAR_DIR": str(var_dir),
        "KAZI_CONFIG_DIR": str(config_dir),
        "KAZI_QUEUE_NAME": queue_name,
    }
    if redis_url:
        env["KAZI_REDIS_URL"] = redis_url
    settings = Settings.from_env(env)
    clock = ShiftedClock()
    simulator = Simulator(
        SimulatorConfig(
            app_secret=APP_SECRET,
            access_token=ACCESS_TOKEN,
            business=SHOP,
            status_delay=0.01,
            timeout_seconds=send_timeout * 2,  # the timeout fault outlasts the client
            max_attempts=10,
            retry_base=0.05,
            autostart=False,
        ),
        Script(customers=(), templates=()),
        seed=7,
    )
    simulator_server = ServerThread(create_simulator_app(simulator)).start()

    # The real HTTP client, with a short timeout so a timeout storm costs little.
    sender = CloudApiSender(
        access_token=ACCESS_TOKEN,
        phone_number_id=SHOP.phone_number_id,
        base_url=simulator_server.url,
        timeout=send_timeout,
    )

    def sender_for(workspace_id: int, business_number: str) -> MessageSender:
        return DyingSender(sender, lambda: stack)

    runtime = build_runtime(
        settings, clock=clock, executors={SEND_KIND: make_send_executor(sender_for)}
    )
    # The test thread plays the worker: with Redis, polling beats BRPOP's one-second wait.
    runtime.huey.storage.blocking = False
    runtime.configs = ConfigDirectory(
        settings.config_dir, env={"KAZI_RETAIL_WA_APP_SECRET": APP_SECRET}
    )
    kazi = ServerThread(create_app(runtime)).start()
    simulator.delivery.url = f"{kazi.url}/webhooks/whatsapp/{slug}"
    stack = Stack(db, workspace_id, slug, runtime, clock, kazi, simulator, simulator_server)
    return stack


class DyingSender:
    """Sends for real; when the stack says so, the worker dies right after the request left."""

    def __init__(self, inner: MessageSender, stack: Callable[[], Stack]) -> None:
        self._inner, self._stack = inner, stack

    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        result = self._inner.send(message, idempotency_key=idempotency_key)
        if self._stack().kill_after_next_send:
            self._stack().kill_after_next_send = False
            raise WorkerKilled(idempotency_key)
        return result


def stop_stack(stack: Stack) -> None:
    stack.simulator_server.request_stop()
    stack.kazi.request_stop()
    stack.simulator_server.stop()
    stack.kazi.stop()
    stack.runtime.close()
