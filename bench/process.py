"""Inbound processing benchmark: one worker, one event a job against batches (issue 11, item 2).

    .venv/bin/python bench/process.py [--customers 30] [--messages 3] [--cap 15] [--budget 75]
    .venv/bin/python bench/process.py --backends sqlite

For each backend (a fresh SQLite file; a fresh PostgreSQL database, dropped after) it
loads the retail sample twice and stores the same webhooks in each copy as the webhook
route stores them: `--customers` customers each open a conversation (applied untimed),
then write `--messages` - 1 more texts into it. Those are applied the way one worker
thread does, and it prints events/s (wall and per CPU second of the process, the
fairer figure on a shared machine) and SQL statements per event:

  one a job   `process_inbound_event` once per event, in id order (the job before batching)
  batched     `process_inbound_batch` until nothing is ready (100 events a job)

Everything a worker does runs: the handler, the retail rules, AI classification, report
tallies and the sends rules make (enqueued to a recording queue, not sent). Each phase
stops after `--cap` seconds, or sooner to end within `--budget` (75 s; setup and a
batch once begun run on), and reports what it did by then, so a run stays under about
two minutes; a phase that ran out of time says so ("38 of 60 events"). Settings:
KAZI_BENCH_POSTGRES_URL (an admin URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.whatsapp.parse import parse_webhook  # noqa: E402
from connectors.whatsapp.simulator.payloads import Business, message_webhook  # noqa: E402
from engine.ai.inbound import classifying_automations  # noqa: E402
from engine.contacts.keywords import with_consent_keywords  # noqa: E402
from engine.core.clock import FrozenClock  # noqa: E402
from engine.core.queue import RecordingJobQueue  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.inbound.ingest import RawItem, store_inbound  # noqa: E402
from engine.inbound.processing import process_inbound_event  # noqa: E402
from engine.models import InboundEvent  # noqa: E402
from engine.whatsapp.apply import make_whatsapp_handler  # noqa: E402
from engine.workspaces.directory import ConfigDirectory  # noqa: E402
from engine.workspaces.load import load_folder  # noqa: E402

try:
    from engine.inbound.processing import process_inbound_batch
    from engine.jobs.names import INBOUND_BATCH_SIZE
except ImportError:  # a tree from before batching: its one-a-job figure only
    process_inbound_batch = None  # type: ignore[assignment]
    INBOUND_BATCH_SIZE = 100
PHASES = ("one a job", "batched") if process_inbound_batch is not None else ("one a job",)

SHOP = Business("1020", "104729384756101", "254711502300")
START = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # Tuesday, 10:00 in Nairobi
TEXTS = ("Habari, bei ya TV ya inchi 55 ni ngapi?", "sawa", "nitapita kesho, asante")
POSTGRES_ADMIN = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(backend: str, scratch: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{scratch / 'process-bench.sqlite3'}"
        return
    name = f"kazi_process_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def workspace(db: Engine, scratch: Path, slug: str) -> tuple[int, ConfigDirectory]:
    configs = scratch / "configs"
    folder = configs / slug
    shutil.copytree(ROOT / "configs" / "retail", folder)
    workspace_file = folder / "workspace.yaml"
    workspace_file.write_text(
        workspace_file.read_text("utf-8").replace("\nslug: retail\n", f"\nslug: {slug}\n"),
        "utf-8",
    )
    return load_folder(db, folder, START), ConfigDirectory(configs)


def store(db: Engine, workspace_id: int, customers: int, rounds: range) -> list[int]:
    """The webhooks, stored as the route stores them: customer after customer, in rounds."""
    ids: list[int] = []
    for round_ in rounds:
        with workspace_session(db, workspace_id) as session:
            for n in range(customers):
                wa_id = f"2547{n:08d}"
                body = message_webhook(
                    SHOP,
                    wa_id,
                    f"Customer {n}",
                    {
                        "from": wa_id,
                        "id": f"wamid.bench-{wa_id}-{round_}",
                        "timestamp": str(int(START.timestamp()) + round_ * 60 + n % 60),
                        "type": "text",
                        "text": {"body": TEXTS[round_ % len(TEXTS)]},
                    },
                )
                stored = store_inbound(
                    session,
                    workspace_id=workspace_id,
                    provider="whatsapp",
                    items=[
                        RawItem(dedup_key=e.dedup_key, payload=e.envelope)
                        for e in parse_webhook(json.dumps(body).encode())
                    ],
                    signature_ok=True,
                    now=START,
                )
                ids += stored.new_event_ids
            session.commit()
    return ids


def processed(db: Engine, workspace_id: int) -> int:
    with workspace_session(db, workspace_id) as session:
        return int(
            session.scalar(select(func.count()).where(InboundEvent.state == "processed")) or 0
        )


def run_phase(db: Engine, work: Callable[[], bool], cap: float) -> tuple[float, float, int]:
    """Call `work` until it says it is done or `cap` seconds pass: (seconds, CPU seconds of
    this process, statements). The CPU time is the fairer figure on a shared machine."""
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db, "before_cursor_execute", count)
    began, cpu = time.perf_counter(), time.process_time()
    try:
        while time.perf_counter() - began < cap and work():
            pass
    finally:
        event.remove(db, "before_cursor_execute", count)
    return time.perf_counter() - began, time.process_time() - cpu, statements


def worker(
    label: str,
    db: Engine,
    workspace_id: int,
    configs: ConfigDirectory,
    ids: list[int],
    messages: int,
) -> Callable[[], bool]:
    """One step of a worker thread's work; False when it found nothing left to do."""
    clock = FrozenClock(START + timedelta(minutes=messages + 1))
    handlers = {"whatsapp": make_whatsapp_handler(configs)}
    automations = with_consent_keywords(configs, classifying_automations(configs))
    queue = RecordingJobQueue()
    pending = iter(ids)
    # The tree this runs from may predate the batch job (a "before" run): then only the
    # one-a-job phase runs, without enqueue-at-commit.
    extra: dict[str, Any] = {"queue": queue} if process_inbound_batch is not None else {}

    def one() -> bool:
        event_id = next(pending, None)
        if event_id is None:
            return False
        process_inbound_event(
            event_id=event_id,
            db=db,
            clock=clock,
            handlers=handlers,
            automations=automations,
            **extra,
        )
        return True

    def batch() -> bool:
        assert process_inbound_batch is not None
        before = processed(db, workspace_id)
        process_inbound_batch(
            db=db,
            clock=clock,
            handlers=handlers,
            automations=automations,
            queue=queue,
            workspace_id=workspace_id,
        )
        return processed(db, workspace_id) > before

    return one if label == "one a job" else batch


def bench_backend(backend: str, customers: int, messages: int, cap: float, deadline: float) -> None:
    """Both phases on one backend; every phase's cap shrinks to end by `deadline`."""

    def capped(phases_left: int) -> float:
        return max(1.0, min(cap, (deadline - time.perf_counter()) / phases_left))

    with tempfile.TemporaryDirectory(prefix="kazi-process-") as scratch_name:
        scratch = Path(scratch_name)
        with database(backend, scratch) as url:
            migrate(url)
            db = make_engine(url)
            try:
                for number, label in enumerate(PHASES):
                    left = 2 * (len(PHASES) - number)
                    workspace_id, configs = workspace(db, scratch, label.replace(" ", "_"))
                    # Untimed: each customer's first message opens their conversation.
                    opening = store(db, workspace_id, customers, range(1))
                    fastest = "batched" if "batched" in PHASES else label
                    warm_up = worker(fastest, db, workspace_id, configs, opening, 1)
                    run_phase(db, warm_up, capped(left))
                    opened = processed(db, workspace_id)
                    # Timed: the texts that follow, into conversations that are open.
                    ids = store(db, workspace_id, customers, range(1, messages))
                    work = worker(label, db, workspace_id, configs, ids, messages)
                    seconds, cpu, statements = run_phase(db, work, capped(left - 1))
                    done = processed(db, workspace_id) - opened
                    # The batched phase's progress checks are the bench's, not the worker's.
                    if label == "batched":
                        statements -= 2 * (1 + -(-done // INBOUND_BATCH_SIZE))
                    print(
                        f"  {backend:<10} {label:<10} {done:>5} of {len(ids)} events "
                        f"in {seconds:5.1f} s: {done / seconds:6.1f} events/s "
                        f"({done / cpu:6.1f} per CPU second), "
                        f"{statements / max(done, 1):5.1f} SQL statements/event",
                        flush=True,
                    )
            finally:
                db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--cap", type=float, default=15.0, help="seconds a phase may take")
    parser.add_argument("--budget", type=float, default=75.0, help="seconds for the whole run")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(
        f"inbound processing, one worker thread, retail sample: {args.customers} customers "
        f"open a conversation (untimed), then send {args.messages - 1} texts each into it "
        f"({args.customers * (args.messages - 1)} events timed)"
    )
    backends = [b.strip() for b in args.backends.split(",")]
    began = time.perf_counter()
    for number, backend in enumerate(backends):
        # Each backend gets an equal share of what is left of the budget.
        share = (args.budget - (time.perf_counter() - began)) / (len(backends) - number)
        deadline = time.perf_counter() + share
        bench_backend(backend, args.customers, args.messages, args.cap, deadline)
    print(f"  (whole run {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
