"""A faulted soak of real Kazi processes on PostgreSQL + Redis (issue 11, item 5).

    .venv/bin/python bench/soak.py [--minutes 10] [--short] [--postgres own|shared]
                                   [--redis own|shared] [--fast-leases]

Runs `kazi serve`, `kazi worker` and the WhatsApp simulator `kazi simulate` as real
processes, loads a copy of configs/retail with a rule whose delay falls due in
seconds, and for N minutes drives a mixed load:

- bursts of inbound messages from new and returning customers, some with media,
  some asking for the delayed nudge (later replies cancel it);
- a status webhook for every send, every webhook delivered twice at once, and at
  times the statuses newest first (the simulator's `duplicates` and `reorder`);
- staff replies, claims and stage moves through the JSON API (/api/v1, a token).

Meanwhile it injects faults: SIGKILL of the worker and of the server (restarted at
once, as a supervisor would), Redis and PostgreSQL restarts, and 429 / 500 / timeout
storms at the simulator. After each fault it measures the recovery time: from the
fault until the work owed at that moment, and a probe message sent right after it,
are applied (for a storm: from its end until the sends it held back are settled).

Then it waits for the work to settle, reads the database and the simulator's logs,
and runs the history checker (bench/history.py). It prints the recovery times, the
RSS of each server and worker process at minute 2 and at the end, and every broken
promise; the exit status is 1 when one was found.

Where PostgreSQL and Redis live:
  --postgres own    a private cluster (initdb in a temporary folder, its own port),
                    so a PostgreSQL restart disturbs no one else (the default for a
                    full run; needs /usr/lib/postgresql/*/bin and the postgres user)
  --postgres shared a database created (and dropped) on KAZI_BENCH_POSTGRES_URL;
                    PostgreSQL is then never restarted
  --redis own       a private redis-server on a free port, restarted for real
  --redis shared    KAZI_BENCH_REDIS_URL (default redis://127.0.0.1:6379/12) with a
                    queue name of this run's own; Redis is then never restarted
--short: about 60 s, shared services, no restarts of PostgreSQL or Redis: worker and
server kills and the simulator's storms only (what the test suite runs).
--fast-leases: 2 s leases and re-enqueue delays (the recovery then shows what the
sweeper can do, not the production lease of 2 minutes).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history import (  # noqa: E402
    ActionRow,
    ConversationRow,
    EventRow,
    FailuresPage,
    History,
    MessageRow,
    OutboxRecord,
    SendRecord,
    StatusRow,
    acked_webhooks,
    check,
    webhook_items,
)
from engine.auth import Role, create_api_token  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.models import (  # noqa: E402
    Conversation,
    InboundEvent,
    Message,
    MessageStatusEvent,
    OutboxRow,
    ScheduledAction,
    Teammate,
)
from engine.workspaces.load import load_folder  # noqa: E402

ADMIN_URL = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED_REDIS_URL = os.environ.get("KAZI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
APP_SECRET = "soak-app-secret"
ACCESS_TOKEN = "soak-access-token"
NUDGE_SECONDS = 20
SOAK_RULES = f"""# The soak's own rule: a delay that falls due within the run.

rule "Soak nudge"
when message received
if message.text contains "nudge"
then
  add note "Nudge asked for"
after {NUDGE_SECONDS}s unless customer replied
  send text "Still there? Reply and we will help you right away."
end
"""
SETTLED_EVENT_STATES = ("processed", "flagged", "failed")
BASE_FAULTS = "duplicates:2"
RECOVERY_TARGET = 15.0
RSS_LIMIT_MB = 300.0
RSS_GROWTH = 0.10
FAST_TIMINGS = {
    "KAZI_JOB_LEASE_SECONDS": "2",
    "KAZI_SWEEP_INTERVAL_SECONDS": "0.5",
    "KAZI_REENQUEUE_AFTER_SECONDS": "2",
}


def log(line: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {line}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kazi(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", *arguments]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds it took for `condition` to hold; raises after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if condition():
                return time.monotonic() - start
        except (OSError, httpx.HTTPError, SQLAlchemyError):  # a service restarting: ask again
            pass
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


# --- services: PostgreSQL and Redis ------------------------------------------------------


class OwnPostgres:
    """A private PostgreSQL cluster in a temporary folder, on a port of its own."""

    def __init__(self, folder: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise SystemExit("--postgres own needs /usr/lib/postgresql/*/bin/pg_ctl")
        self.bin = Path(found[-1]).parent
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        self.data.parent.chmod(0o755)
        self.data.mkdir()
        shutil.chown(self.data, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.data / "server.log"), "-w", "start",
        )  # fmt: skip

    def restart(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                          "restart")  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "stop")  # fmt: skip


class OwnRedis:
    """A private redis-server keeping nothing on disk: a restart loses every queued job."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("--redis own needs redis-server")
        self.folder.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def listens() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True

        wait_until(listens, 10, "redis-server to listen")

    def restart(self) -> None:
        self.stop()
        time.sleep(1.0)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    name = f"kazi_soak_{uuid.uuid4().hex[:10]}"
    # pre_ping: a PostgreSQL restart during the run left the pooled connection dead.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except SQLAlchemyError as error:  # never lose the run's figures to the cleanup
            log(f"could not drop {name}: {error}")
        finally:
            admin.dispose()


# --- Kazi's processes ------------------------------------------------------------------


@dataclass
class Role_:
    """One supervised process: `kazi serve`, `kazi worker` or `kazi simulate`."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            cwd=ROOT,
        )  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        for pid in [*children(self.process.pid), self.process.pid]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_mb(self) -> list[float]:
        """RSS of the process and its children (uvicorn's workers), in MB."""
        if self.process is None or self.process.poll() is not None:
            return []
        return [
            rss
            for pid in [self.process.pid, *children(self.process.pid)]
            if (rss := rss_of(pid)) is not None
        ]


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found += [int(p) for p in Path(task).read_text().split()]
        except OSError:
            continue
    return found


def rss_of(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- the run -----------------------------------------------------------------------------


@dataclass
class Recovery:
    fault: str
    seconds: float | None  # None: did not recover within the wait
    detail: str = ""


@dataclass
class Soak:
    db: Engine
    workspace_id: int
    slug: str
    base_url: str
    simulator_url: str
    token: str
    server: Role_
    worker: Role_
    simulator: Role_
    restart_postgres: Callable[[], None] | None
    restart_redis: Callable[[], None] | None
    stop_event: threading.Event = field(default_factory=threading.Event)
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    recoveries: list[Recovery] = field(default_factory=list)
    api_answers: Counter[str] = field(default_factory=Counter)
    inbound_sent: int = 0
    customers: list[str] = field(default_factory=list)
    rss: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    notes: list[str] = field(default_factory=list)  # said of the next recovery

    # --- load -----------------------------------------------------------------------

    def say(self, wa_id: str, step: dict[str, Any]) -> str | None:
        try:
            answer = httpx.post(
                f"{self.simulator_url}/_sim/customers/{wa_id}/messages", json=step, timeout=10
            )
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        with self.lock:
            self.inbound_sent += 1
        return str(answer.json()["id"])

    def inbound_load(self, rate: float) -> None:
        """Bursts every second or so: returning customers mostly, new ones often."""
        n = 0
        while not self.stop_event.is_set():
            burst = self.rng.randint(1, max(1, int(rate * 2)))
            for _ in range(burst):
                n += 1
                if not self.customers or self.rng.random() < 0.3:
                    wa_id = f"2547{self.rng.randint(10**7, 10**8 - 1)}"
                    self.customers.append(wa_id)
                else:
                    wa_id = self.rng.choice(self.customers)
                draw = self.rng.random()
                if draw < 0.1:
                    step: dict[str, Any] = {"image": {"caption": f"photo {n}"}}
                elif draw < 0.25:
                    step = {"text": f"Please nudge me later ({n})"}
                elif draw < 0.4:
                    step = {"text": f"How much is the TV? bei gani ({n})"}
                else:
                    step = {"text": f"Habari, message {n}"}
                self.say(wa_id, step)
            self.stop_event.wait(self.rng.uniform(0.5, 1.5))

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            answer = httpx.request(
                method,
                f"{self.base_url}/api/v1{path}",
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=15,
                **kwargs,
            )
        except httpx.HTTPError as error:
            self.api_answers[f"{method} {type(error).__name__}"] += 1
            return None
        self.api_answers[f"{method} {answer.status_code}"] += 1
        return answer

    def staff_load(self, teammates: list[int], moves: dict[str, list[str]]) -> None:
        """Staff at work: replies, claims and stage moves on recent conversations."""
        while not self.stop_event.is_set():
            self.stop_event.wait(self.rng.uniform(0.3, 1.0))
            listing = self.api("GET", "/conversations", params={"queue": "all"})
            if listing is None or listing.status_code != 200:
                continue
            items = listing.json().get("items") or []
            if not items:
                continue
            chosen = self.rng.choice(items)
            draw = self.rng.random()
            if draw < 0.5:
                self.api(
                    "POST",
                    f"/conversations/{chosen['id']}/messages",
                    json={"body": "Asante! We are on it.", "confirmed": True},
                )
            elif draw < 0.75:
                self.api(
                    "PUT",
                    f"/conversations/{chosen['id']}/assignment",
                    json={
                        "expected_owner_id": chosen.get("owner_id"),
                        "teammate_id": self.rng.choice(teammates),
                    },
                )
            else:
                stage = chosen.get("stage")
                options = moves.get(stage or "", [])
                if options:
                    self.api(
                        "PUT",
                        f"/conversations/{chosen['id']}/stage",
                        json={"stage": self.rng.choice(options), "expected_stage": stage},
                    )

    def shuffle_load(self) -> None:
        """Statuses newest first for a while, then in order again, over and over."""
        reorder = False
        while not self.stop_event.wait(7.0):
            reorder = not reorder
            self.faults(BASE_FAULTS + (",reorder" if reorder else ",reorder:off"))

    def faults(self, spec: str) -> None:
        with suppress(httpx.HTTPError):
            httpx.post(f"{self.simulator_url}/_sim/faults", json={"spec": spec}, timeout=5)

    # --- measuring ----------------------------------------------------------------------

    def owed(self) -> tuple[set[int], set[int]]:
        """Inbound events and outbox rows that still owe work."""
        with workspace_session(self.db, self.workspace_id) as session:
            events = set(
                session.scalars(
                    select(InboundEvent.id).where(
                        InboundEvent.state.in_(("received", "processing"))
                    )
                )
            )
            rows = set(
                session.scalars(
                    select(OutboxRow.id).where(OutboxRow.state.in_(("queued", "sending")))
                )
            )
        return events, rows

    def settled(self, events: set[int], rows: set[int]) -> bool:
        with workspace_session(self.db, self.workspace_id) as session:
            if events:
                left = session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.id.in_(events))
                    .where(InboundEvent.state.in_(("received", "processing")))
                )
                if left:
                    return False
            if rows:
                left = session.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.id.in_(rows))
                    .where(OutboxRow.state.in_(("queued", "sending")))
                )
                if left:
                    return False
        return True

    def work_in_flight(self, burst: int = 12, wait: float = 10.0) -> None:
        """A burst, then wait (a while at most) until a worker holds an event: a fault
        that hits an idle worker measures nothing."""
        for n in range(burst):
            self.say(self.rng.choice(self.customers or ["254700000001"]), {"text": f"rush {n}"})
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with workspace_session(self.db, self.workspace_id) as session:
                if session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.state == "processing")
                ):
                    return
            time.sleep(0.05)

    def left(self, events: set[int], rows: set[int]) -> dict[str, int]:
        """Of the work owed at a fault, what is still owed, by state and attempts."""
        with workspace_session(self.db, self.workspace_id) as session:
            found = session.execute(
                select(InboundEvent.state, InboundEvent.attempts, func.count())
                .where(InboundEvent.id.in_(events))
                .where(InboundEvent.state.in_(("received", "processing")))
                .group_by(InboundEvent.state, InboundEvent.attempts)
            ).all()
            sends = session.execute(
                select(OutboxRow.state, OutboxRow.attempts, func.count())
                .where(OutboxRow.id.in_(rows))
                .where(OutboxRow.state.in_(("queued", "sending")))
                .group_by(OutboxRow.state, OutboxRow.attempts)
            ).all()
        return {f"event {s} x{a}": n for s, a, n in found} | {
            f"send {s} x{a}": n for s, a, n in sends
        }

    def stored(self, wamid: str) -> bool:
        """Whether Kazi acknowledged (stored) the webhook of this message."""
        with workspace_session(self.db, self.workspace_id) as session:
            return bool(
                session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.dedup_key.contains(wamid))
                )
            )

    def measure(self, fault: str, inject: Callable[[], None], wait: float = 180.0) -> None:
        """Inject a fault; time until the work owed then is done (applied, sent or
        failed visibly) and a webhook sent right after it is acknowledged. (The probe's
        own processing waits behind the load's queue: that is lag, not recovery.)"""
        if fault != "kill server":
            self.work_in_flight()
        events, rows = self.owed()
        started = time.monotonic()
        log(f"fault: {fault} ({len(events)} events, {len(rows)} sends owed)")
        inject()
        probe = None
        while probe is None and time.monotonic() - started < 30:
            probe = self.say(f"2547999{self.rng.randint(10000, 99999)}", {"text": f"probe {fault}"})
            if probe is None:
                time.sleep(0.2)

        def recovered() -> bool:
            return probe is not None and self.stored(probe) and self.settled(events, rows)

        try:
            wait_until(recovered, wait, f"recovery from {fault}")
            seconds: float | None = time.monotonic() - started
        except TimeoutError:
            seconds = None
            self.notes.append(f"still owed: {self.left(events, rows)}")
        detail = "; ".join(self.notes) if probe is not None else "probe never accepted"
        self.notes.clear()
        self.recoveries.append(Recovery(fault, seconds, detail))
        shown = f"{seconds:.1f} s" if seconds is not None else f"not within {wait:.0f} s"
        log(f"recovered from {fault}: {shown}")

    def storm(self, spec: str, seconds: float, wait: float = 180.0) -> None:
        """A provider storm for `seconds`; recovery counted from its end."""
        log(f"fault: storm {spec} for {seconds:.0f} s")
        self.faults(spec)
        self.stop_event.wait(seconds)
        self.faults("429@0,500@0,timeout@0")
        events, rows = self.owed()
        ended = time.monotonic()
        try:
            wait_until(lambda: self.settled(events, rows), wait, f"sends after {spec}")
            took: float | None = time.monotonic() - ended
        except TimeoutError:
            took = None
        self.recoveries.append(Recovery(f"storm {spec}", took, f"{len(rows)} sends held back"))
        shown = f"{took:.1f} s" if took is not None else f"not within {wait:.0f} s"
        log(f"recovered from storm {spec}: {shown} ({len(rows)} sends held back)")

    def kill_and_restart(self, role: Role_) -> Callable[[], None]:
        def inject() -> None:
            role.kill()
            role.restarts += 1
            role.start()
            if role is self.server:
                took = wait_until(
                    lambda: httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200,
                    120,
                    "kazi serve to start again",
                )
                self.notes.append(f"the new server answered /healthz after {took:.1f} s")

        return inject

    def sample_rss(self, label: str) -> None:
        for role in (self.server, self.worker):
            self.rss.setdefault(role.name, {})[label] = role.rss_mb()


# --- setup -------------------------------------------------------------------------------


def soak_workspace(folder: Path) -> tuple[Path, str]:
    slug = f"soak_{uuid.uuid4().hex[:8]}"
    config_dir = folder / "configs"
    shutil.copytree(ROOT / "configs" / "retail", config_dir / slug)
    workspace_file = config_dir / slug / "workspace.yaml"
    text_ = workspace_file.read_text(encoding="utf-8")
    workspace_file.write_text(text_.replace("\nslug: retail\n", f"\nslug: {slug}\n"), "utf-8")
    (config_dir / slug / "rules" / "soak.kazi").write_text(SOAK_RULES, "utf-8")
    return config_dir, slug


def read_history(soak: Soak, ended_at: datetime) -> History:
    sends = httpx.get(f"{soak.simulator_url}/_sim/sends", timeout=60).json()
    deliveries = httpx.get(f"{soak.simulator_url}/_sim/deliveries", timeout=60).json()
    page = soak.api("GET", "/failures")
    assert page is not None and page.status_code == 200, "the failures page did not answer"
    failures = page.json()
    with workspace_session(soak.db, soak.workspace_id) as session:
        events = [
            EventRow(e.id, e.state, *_items(e.payload))
            for e in session.scalars(select(InboundEvent).order_by(InboundEvent.id))
        ]
        messages = [
            MessageRow(m.id, m.provider_message_id, m.direction, m.delivery_state, m.failure_code)
            for m in session.scalars(select(Message))
        ]
        statuses = [
            StatusRow(s.id, s.message_id, s.status, s.inbound_event_id)
            for s in session.scalars(select(MessageStatusEvent))
        ]
        outbox = [
            OutboxRecord(r.id, r.idempotency_key, r.state, r.payload.get("message_id"))
            for r in session.scalars(select(OutboxRow))
        ]
        conversations = [
            ConversationRow(c.id, c.contact_id, c.business_number, c.status)
            for c in session.scalars(select(Conversation))
        ]
        actions = [
            ActionRow(
                a.id, a.conversation_id, a.rule_name, a.block, a.trigger_event_id, a.state,
                a.due_at,
            )
            for a in session.scalars(select(ScheduledAction))
        ]  # fmt: skip
    return History(
        acked=acked_webhooks(deliveries),
        events=events,
        messages=messages,
        statuses=statuses,
        sends=[SendRecord(str(s["wamid"]), s.get("callback_data")) for s in sends],
        outbox=outbox,
        conversations=conversations,
        actions=actions,
        failures=FailuresPage(
            message_ids=frozenset(int(s["message_id"]) for s in failures["sends"]),
            event_ids=frozenset(int(e["event_id"]) for e in failures["events"]),
        ),
        ended_at=ended_at,
    )


def _items(payload: dict[str, Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    found = webhook_items(payload)
    return found.message_ids, found.statuses


@dataclass(frozen=True)
class Plan:
    minutes: float
    faults: list[tuple[float, str]]  # (share of the run, fault)
    rate: float  # inbound messages a second, on average


def plan_for(minutes: float, short: bool, postgres_restarts: bool, redis_restarts: bool) -> Plan:
    if short:
        return Plan(
            minutes,
            [(0.2, "kill worker"), (0.4, "storm 429@0.5"), (0.6, "kill server"),
             (0.75, "storm 500@0.5")],
            rate=1.0,
        )  # fmt: skip
    faults = [
        (0.08, "storm 429@0.5"),
        (0.16, "kill worker"),
        (0.26, "storm 500@0.5"),
        (0.34, "kill server"),
        (0.44, "restart redis"),
        (0.54, "storm timeout@0.3"),
        (0.64, "restart postgres"),
        (0.74, "kill worker"),
        (0.84, "storm 429@0.5"),
    ]
    faults = [
        (at, f)
        for at, f in faults
        if (f != "restart postgres" or postgres_restarts)
        and (f != "restart redis" or redis_restarts)
    ]
    return Plan(minutes, faults, rate=1.0)


@dataclass
class Outcome:
    problems: list[str]
    recoveries: list[Recovery]
    rss: dict[str, dict[str, list[float]]]
    counts: dict[str, int]
    api_answers: dict[str, int]


def run(
    *,
    minutes: float,
    short: bool,
    postgres: str,
    redis: str,
    fast_leases: bool,
    admin_url: str = ADMIN_URL,
    redis_url: str = SHARED_REDIS_URL,
    keep: Path | None = None,
) -> Outcome:
    folder = Path(tempfile.mkdtemp(prefix="kazi-soak-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        own_pg: OwnPostgres | None = None
        if postgres == "own":
            own_pg = OwnPostgres(folder)
            own_pg.start()
            stack.callback(own_pg.stop)
            admin_url = own_pg.url
        own_redis: OwnRedis | None = None
        if redis == "own":
            own_redis = OwnRedis(folder / "redis")
            own_redis.start()
            stack.callback(own_redis.stop)
            redis_url = own_redis.url
        database_url = stack.enter_context(database(admin_url))
        migrate(database_url)
        config_dir, slug = soak_workspace(folder)
        bind = f"127.0.0.1:{free_port()}"
        simulator_bind = f"127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAZI_")}
        env.update(
            KAZI_DATABASE_URL=database_url,
            KAZI_REDIS_URL=redis_url,
            KAZI_QUEUE_NAME=f"kazi-soak-{uuid.uuid4().hex[:8]}",
            KAZI_VAR_DIR=str(folder / "var"),
            KAZI_CONFIG_DIR=str(config_dir),
            KAZI_BIND=bind,
            KAZI_SECRET_KEY="soak-" + uuid.uuid4().hex * 2,
            KAZI_RETAIL_WA_APP_SECRET=APP_SECRET,
            KAZI_RETAIL_WA_ACCESS_TOKEN=ACCESS_TOKEN,
            KAZI_WHATSAPP_API_URL=f"http://{simulator_bind}",
        )
        if fast_leases:
            env.update(FAST_TIMINGS)
        db = make_engine(database_url)
        stack.callback(db.dispose)
        workspace_id = load_folder(db, config_dir / slug, datetime.now(UTC))
        token = create_api_token(
            db, workspace_id=workspace_id, role=Role.parse("manager"), label="soak",
            now=datetime.now(UTC),
        )  # fmt: skip
        with workspace_session(db, workspace_id) as session:
            teammates = list(session.scalars(select(Teammate.id)))
        logs = keep or folder / "logs"  # kept only when asked for
        logs.mkdir(parents=True, exist_ok=True)
        simulator = Role_(
            "simulator",
            kazi("simulate", "--webhook-url", f"http://{bind}/webhooks/whatsapp/{slug}",
                 "--app-secret", APP_SECRET, "--access-token", ACCESS_TOKEN,
                 "--bind", simulator_bind, "--workspace", str(config_dir / slug),
                 "--no-script", "--status-delay", "0.3", "--timeout-seconds", "12",
                 "--faults", BASE_FAULTS, "--seed", "5"),
            env, logs / "simulate.log",
        )  # fmt: skip
        server = Role_("server", kazi("serve"), env, logs / "serve.log")
        worker = Role_("worker", kazi("worker"), env, logs / "worker.log")
        for role in (simulator, server, worker):
            role.start()
            stack.callback(role.stop)
        wait_until(
            lambda: httpx.get(f"http://{bind}/healthz", timeout=1).status_code == 200,
            120,
            "kazi serve",
        )
        wait_until(
            lambda: httpx.get(f"http://{simulator_bind}/_sim/state", timeout=1).status_code == 200,
            60,
            "the simulator",
        )
        soak = Soak(
            db=db,
            workspace_id=workspace_id,
            slug=slug,
            base_url=f"http://{bind}",
            simulator_url=f"http://{simulator_bind}",
            token=token,
            server=server,
            worker=worker,
            simulator=simulator,
            restart_postgres=own_pg.restart if own_pg else None,
            restart_redis=own_redis.restart if own_redis else None,
        )
        plan = plan_for(minutes, short, own_pg is not None, own_redis is not None)
        pipeline_moves = {
            "inquiry": ["quote", "lost"],
            "quote": ["payment", "inquiry"],
            "payment": ["fulfilment", "quote"],
            "fulfilment": ["delivery", "completed"],
            "delivery": ["completed"],
        }
        log(
            f"soak: {minutes:g} min on {postgres} PostgreSQL, {redis} Redis, "
            f"{'fast' if fast_leases else 'production'} leases; faults: "
            + ", ".join(f for _, f in plan.faults)
        )
        loads = [
            threading.Thread(target=soak.inbound_load, args=(plan.rate,), daemon=True),
            threading.Thread(target=soak.staff_load, args=(teammates, pipeline_moves), daemon=True),
            threading.Thread(target=soak.shuffle_load, daemon=True),
        ]
        for thread in loads:
            thread.start()
        started = time.monotonic()
        total = minutes * 60
        rss_at = min(120.0, total / 3)

        def sample_early() -> None:
            if not soak.stop_event.wait(rss_at):
                soak.sample_rss("minute 2")

        loads.append(threading.Thread(target=sample_early, daemon=True))
        loads[-1].start()
        for share, fault in plan.faults:
            due = started + share * total
            while time.monotonic() < due:
                time.sleep(0.2)
            if fault == "kill worker":
                soak.measure(fault, soak.kill_and_restart(worker))
            elif fault == "kill server":
                soak.measure(fault, soak.kill_and_restart(server))
            elif fault == "restart redis" and soak.restart_redis:
                soak.measure(fault, soak.restart_redis)
            elif fault == "restart postgres" and soak.restart_postgres:
                soak.measure(fault, soak.restart_postgres)
            elif fault.startswith("storm "):
                soak.storm(fault.removeprefix("storm "), seconds=max(5.0, total * 0.04))
        while time.monotonic() < started + total:
            time.sleep(0.2)
        soak.sample_rss("end")
        soak.stop_event.set()
        for thread in loads:
            thread.join(timeout=30)
        soak.faults("429@0,500@0,timeout@0,reorder:off")
        log("load stopped; waiting for the work to settle and the last delays to fall due")
        stopped = time.monotonic()
        # Every delay scheduled before the load stopped is due by then.
        ended_at = datetime.now(UTC) + timedelta(seconds=NUDGE_SECONDS)

        def settled() -> bool:
            with workspace_session(soak.db, soak.workspace_id) as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(ScheduledAction)
                    .where(ScheduledAction.state.in_(("pending", "running")))
                    .where(ScheduledAction.due_at <= ended_at)
                )
            return (
                time.monotonic() - stopped > NUDGE_SECONDS and not waiting and not any(soak.owed())
            )

        try:
            took = wait_until(settled, 300, "the work to settle")
            log(f"settled {took:.1f} s after the load stopped")
        except TimeoutError as error:
            log(str(error))
        time.sleep(3)  # the last status webhooks in flight
        history = read_history(soak, ended_at)
        problems = check(history)
        counts = {
            "inbound messages sent": soak.inbound_sent,
            "webhooks acknowledged": len(history.acked),
            "inbound events": len(history.events),
            "messages": len(history.messages),
            "statuses applied": len(history.statuses),
            "sends accepted by the simulator": len(history.sends),
            "outbox rows": len(history.outbox),
            "conversations": len(history.conversations),
            "delayed actions": len(history.actions),
            "failed sends listed": len(history.failures.message_ids),
            "failed events listed": len(history.failures.event_ids),
            "worker restarts": worker.restarts,
            "server restarts": server.restarts,
        }
        for state, count in Counter(a.state for a in history.actions).items():
            counts[f"delayed actions {state}"] = count
        return Outcome(problems, soak.recoveries, soak.rss, counts, dict(soak.api_answers))
    raise AssertionError("unreachable")


def report(outcome: Outcome) -> None:
    print("\n== soak figures ==")
    for name, value in outcome.counts.items():
        print(f"  {name:<34} {value}")
    print("  API answers: " + json.dumps(dict(sorted(outcome.api_answers.items()))))
    print("\n== recovery (target: owed work flowing again within 15 s) ==")
    for recovery in outcome.recoveries:
        seconds = recovery.seconds
        shown = f"{seconds:6.1f} s" if seconds is not None else "  NOT RECOVERED"
        verdict = "ok" if seconds is not None and seconds <= RECOVERY_TARGET else "MISSED"
        print(f"  {recovery.fault:<24} {shown}  {verdict}  {recovery.detail}")
    print("\n== RSS, MB (target: under 300, growth under 10 % from minute 2) ==")
    for role, samples in outcome.rss.items():
        early, late = samples.get("minute 2", []), samples.get("end", [])
        print(f"  {role:<8} minute 2: {_mb(early)}   end: {_mb(late)}")
    print("\n== history checker ==")
    if outcome.problems:
        print(f"  {len(outcome.problems)} broken promises:")
        for problem in outcome.problems[:60]:
            print(f"   - {problem}")
    else:
        print("  every promise held: applied once, sent once, states only up, one open")
        print("  conversation each, delays ran once or were cancelled, failures listed")


def _mb(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values) or "-"


def main() -> int:
    # SIGTERM and Ctrl-C end the run through its cleanup (processes, database, services).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--short", action="store_true", help="about 60 s, no service restarts")
    parser.add_argument("--postgres", choices=("own", "shared"))
    parser.add_argument("--redis", choices=("own", "shared"))
    parser.add_argument("--fast-leases", action="store_true")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs here")
    arguments = parser.parse_args()
    minutes = 1.0 if arguments.short and arguments.minutes == 10.0 else arguments.minutes
    outcome = run(
        minutes=minutes,
        short=arguments.short,
        postgres=arguments.postgres or ("shared" if arguments.short else "own"),
        redis=arguments.redis or ("shared" if arguments.short else "own"),
        fast_leases=arguments.fast_leases,
        keep=arguments.logs,
    )
    report(outcome)
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
