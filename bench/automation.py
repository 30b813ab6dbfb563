"""Benchmark: the sweep over many open conversations and pending delays, and delay lateness.

    python bench/automation.py [--conversations 10000] [--actions 50000] [--lateness 3000]

On PostgreSQL (KAZI_BENCH_POSTGRES_URL, default the local `test` server; a fresh
database is created and dropped): seeds the retail sample with N open conversations,
each with running SLA clocks, and M pending delayed actions spread over the next day,
then
  1. times `sweep_once` (finding due delayed actions and SLA warnings/breaches) as the
     clock walks forward, p50/p95 in ms;
  2. starts a real `kazi worker` and measures how late L delayed actions, due over one
     minute, actually run (finished_at - due_at).
Targets (issue 6): sweep p95 < 100 ms; 99 % of delayed actions within 5 s of due.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.core.queue import RecordingJobQueue  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.jobs.sweeper import sweep_once  # noqa: E402
from engine.models import (  # noqa: E402
    Contact,
    Conversation,
    ScheduledAction,
    SlaClock,
    Task,
)
from engine.workspaces.load import load_folder  # noqa: E402

ADMIN_URL = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RULE = "Send the quote"  # its delayed block: "after 48h unless customer replied or stage changed"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def seed(db_url: str, workspace_id: int, conversations: int, actions: int, now: datetime) -> None:
    engine = make_engine(db_url)
    started = time.perf_counter()
    with workspace_session(engine, workspace_id) as session:
        session.execute(
            insert(Contact),
            [
                {"workspace_id": workspace_id, "name": f"Customer {n}", "fields": {}}
                for n in range(conversations)
            ],
        )
        contact_ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
        session.execute(
            insert(Conversation),
            [
                {
                    "workspace_id": workspace_id,
                    "contact_id": contact_id,
                    "business_number": "+254711502300",
                    "status": "waiting_on_customer",
                    "priority": "normal",
                    "pipeline": "sales",
                    "stage": "quote",
                    "waiting_on": "customer",
                    "opened_at": now - timedelta(hours=1),
                    "last_customer_message_at": now - timedelta(hours=1),
                }
                for contact_id in contact_ids
            ],
        )
        conversation_ids = list(session.scalars(select(Conversation.id).order_by(Conversation.id)))
        clocks = []
        for n, conversation_id in enumerate(conversation_ids):
            due = now + timedelta(seconds=30 + (n * 86400) // len(conversation_ids))
            clocks.append(
                {
                    "workspace_id": workspace_id,
                    "conversation_id": conversation_id,
                    "kind": "resolution",
                    "policy": "standard",
                    "started_at": now - timedelta(hours=1),
                    "due_at": due,
                    "warn_at": due - timedelta(minutes=10),
                }
            )
        session.execute(insert(SlaClock), clocks)
        session.execute(
            insert(ScheduledAction),
            [
                {
                    "workspace_id": workspace_id,
                    "conversation_id": conversation_ids[n % len(conversation_ids)],
                    "rule_name": RULE,
                    "block": 1,
                    "trigger_event_id": f"bench:{n}",
                    "guard_text": "customer replied or stage changed",
                    "stage_at_schedule": "quote",
                    "status_at_schedule": "waiting_on_customer",
                    "scheduled_at": now,
                    "due_at": now + timedelta(seconds=600 + (n * 86400) // actions),
                    "state": "pending",
                    "attempts": 0,
                }
                for n in range(actions)
            ],
        )
        session.commit()
    engine.dispose()
    print(
        f"seeded {conversations:,} open conversations with SLA clocks and {actions:,} pending "
        f"delayed actions in {time.perf_counter() - started:.1f} s"
    )


def measure_sweep(db_url: str, now: datetime, sweeps: int) -> None:
    engine = make_engine(db_url)
    timings: list[float] = []
    found = 0
    for n in range(sweeps):
        queue = RecordingJobQueue()
        at = now + timedelta(seconds=60 * n)  # the clock walks a minute per sweep
        started = time.perf_counter()
        report = sweep_once(engine, queue, at)
        timings.append((time.perf_counter() - started) * 1000)
        found += report.scheduled_actions + report.sla_clocks
    engine.dispose()
    print(
        f"sweep over the seeded data: {sweeps} sweeps, {found:,} due items handed out; "
        f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
        f"max {max(timings):.1f} ms   (target p95 < 100 ms)"
    )


def measure_lateness(
    db_url: str, workspace_id: int, count: int, spread: int, config_dir: Path
) -> None:
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with workspace_session(engine, workspace_id) as session:
        conversation_ids = list(
            session.scalars(select(Conversation.id).order_by(Conversation.id).limit(count))
        )
        session.execute(
            insert(ScheduledAction),
            [
                {
                    "workspace_id": workspace_id,
                    "conversation_id": conversation_ids[n % len(conversation_ids)],
                    "rule_name": RULE,
                    "block": 1,
                    "trigger_event_id": f"late:{n}",
                    "guard_text": "customer replied or stage changed",
                    "stage_at_schedule": "quote",
                    "status_at_schedule": "waiting_on_customer",
                    "scheduled_at": now,
                    "due_at": now + timedelta(seconds=5 + (spread * n) / count),
                    "state": "pending",
                    "attempts": 0,
                }
                for n in range(count)
            ],
        )
        session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAZI_")}
    var = Path(tempfile.mkdtemp(prefix="kazi-bench-"))
    env.update(
        KAZI_DATABASE_URL=db_url,
        KAZI_REDIS_URL=os.environ.get("KAZI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        KAZI_QUEUE_NAME=f"kazi-bench-{uuid.uuid4().hex[:8]}",
        KAZI_CONFIG_DIR=str(config_dir),
        KAZI_VAR_DIR=str(var),
        KAZI_SWEEP_INTERVAL_SECONDS="1",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "worker", "--threads", "4"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + spread + 180
        while time.monotonic() < deadline:
            with workspace_session(engine, workspace_id) as session:
                left = session.scalar(
                    select(text("count(*)"))
                    .select_from(ScheduledAction)
                    .where(
                        ScheduledAction.trigger_event_id.like("late:%"),
                        ScheduledAction.finished_at.is_(None),
                    )
                )
            if not left:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    with workspace_session(engine, workspace_id) as session:
        rows = session.execute(
            select(
                ScheduledAction.due_at, ScheduledAction.finished_at, ScheduledAction.state
            ).where(ScheduledAction.trigger_event_id.like("late:%"))
        ).all()
        tasks = session.scalar(select(text("count(*)")).select_from(Task))
    late = [(f - d).total_seconds() for d, f, _ in rows if f is not None]
    done = sum(1 for _, _, state in rows if state == "done")
    within = sum(1 for seconds in late if seconds <= 5) / max(1, len(rows))
    print(
        f"delayed actions under one worker (4 threads): {len(rows):,} due over {spread} s "
        f"({len(rows) / spread:.0f}/s), "
        f"{done:,} ran ({tasks:,} follow-up tasks created); lateness p50 "
        f"{statistics.median(late):.2f} s, p99 {percentile(late, 0.99):.2f} s, "
        f"max {max(late):.2f} s; "
        f"{within:.1%} within 5 s   (target 99 %)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--actions", type=int, default=50_000)
    parser.add_argument("--sweeps", type=int, default=100)
    parser.add_argument("--lateness", type=int, default=3_000)
    parser.add_argument("--spread", type=int, default=150, help="seconds the due times span")
    arguments = parser.parse_args()

    name = f"kazi_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    config_dir = Path(tempfile.mkdtemp(prefix="kazi-bench-configs-"))
    try:
        shutil.copytree(ROOT / "configs" / "retail", config_dir / "retail")
        migrate(db_url)
        engine = make_engine(db_url)
        now = datetime.now(UTC)
        workspace_id = load_folder(engine, config_dir / "retail", now)
        engine.dispose()
        seed(db_url, workspace_id, arguments.conversations, arguments.actions, now)
        measure_sweep(db_url, now, arguments.sweeps)
        if arguments.lateness:
            measure_lateness(db_url, workspace_id, arguments.lateness, arguments.spread, config_dir)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
