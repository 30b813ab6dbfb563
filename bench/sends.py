"""Send benchmark: sends/s from `kazi worker` to the WhatsApp simulator, each exactly once.

    .venv/bin/python bench/sends.py [--sends 3000] [--throughput 1000] [--workers 1]
                                    [--threads 4]

In a fresh PostgreSQL database (dropped afterwards) and a Redis queue of its own:
`--sends` template messages are queued for 200 customers, one job per row is
enqueued, and `--workers` `kazi worker` processes send them to `kazi simulate`.
The simulator enforces the number's throughput (`--throughput` messages/s, as Meta
does: 80 by default, up to 1,000 on a higher tier) and answers 429 / 130429 above
it; the workspace's number is configured with the same `messages_per_second`, so
Kazi paces itself and backs off on any 429 it still gets.

Printed: sends/s from the first send done to the last, the simulator's count of
accepted sends and of 429s, idempotency keys it accepted twice (must be none), and
rows not done. Settings: KAZI_BENCH_POSTGRES_URL (an admin URL), KAZI_BENCH_REDIS_URL.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import (  # noqa: E402
    ACCESS_TOKEN,
    ADMIN_URL,
    APP_SECRET,
    SHOP,
    Bench,
    free_port,
    kazi,
    running,
    wait_for,
)
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.models import Contact, Identity, OutboxRow  # noqa: E402
from engine.models.states import Channel  # noqa: E402
from engine.workspaces.load import load_folder  # noqa: E402

CUSTOMERS = 200


def config_dir(work: Path, throughput: float) -> Path:
    """configs/ with the retail number's messages_per_second set to the simulator's."""
    target = work / "configs"
    shutil.copytree(ROOT / "configs", target)
    path = target / "retail" / "workspace.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for number in document["numbers"]:
        number["messages_per_second"] = throughput
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def queue_sends(db: object, workspace_id: int, sends: int) -> list[int]:
    from engine.conversations.threads import open_or_reuse_conversation
    from engine.outbox.sends import queue_template

    now = datetime.now(UTC)
    with workspace_session(db, workspace_id) as session:  # type: ignore[arg-type]
        conversations = []
        for n in range(CUSTOMERS):
            contact = Contact(name=f"Customer {n}")
            session.add(contact)
            session.flush()
            session.add(
                Identity(
                    contact_id=contact.id,
                    channel=Channel.WHATSAPP,
                    address=f"+2547{n:08d}",
                    valid_from=now,
                )
            )
            conversation, _ = open_or_reuse_conversation(
                session,
                contact_id=contact.id,
                business_number="+" + SHOP.display_phone_number,
                now=now,
            )
            conversations.append(conversation.id)
        for n in range(sends):
            queue_template(
                session,
                conversation_id=conversations[n % len(conversations)],
                template_name="order_update",
                language="en",
                parameters=[f"KD-{n}", "ready"],
                author_teammate_id=None,
                now=now,
            )
        session.commit()
        return list(session.scalars(select(OutboxRow.id).where(OutboxRow.state == "queued")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--throughput", type=float, default=1000, help="the number's msgs/s")
    parser.add_argument("--workers", type=int, default=1, help="`kazi worker` processes")
    parser.add_argument("--threads", type=int, default=4, help="threads of each worker")
    arguments = parser.parse_args()

    name = f"kazi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(database_url)
        db = make_engine(database_url)
        with tempfile.TemporaryDirectory(prefix="kazi-bench-") as work_dir:
            work = Path(work_dir)
            configs = config_dir(work, arguments.throughput)
            workspace_id = load_folder(db, configs / "retail", datetime.now(UTC))
            bench = Bench(database_url, db, work, 0, 0)
            port = free_port()
            env = bench.env(
                f"bench-sends-{uuid.uuid4().hex[:6]}",
                KAZI_WHATSAPP_API_URL=f"http://127.0.0.1:{port}",
                KAZI_CONFIG_DIR=str(configs),
            )
            row_ids = queue_sends(db, workspace_id, arguments.sends)
            simulator = kazi(
                "simulate",
                "--no-script",
                "--no-statuses",
                "--bind",
                f"127.0.0.1:{port}",
                "--webhook-url",
                "http://127.0.0.1:9/unused",
                "--app-secret",
                APP_SECRET,
                "--access-token",
                ACCESS_TOKEN,
                "--phone-number-id",
                SHOP.phone_number_id,
                "--display-phone-number",
                SHOP.display_phone_number,
                "--throughput",
                f"{arguments.throughput:g}",
            )
            with running(simulator, env, work / "simulator.log") as process:
                wait_for(f"http://127.0.0.1:{port}/_sim/state", process)
                from engine.composition import build_runtime
                from engine.jobs.names import DISPATCH_OUTBOX_ROW
                from engine.settings import Settings

                runtime = build_runtime(Settings.from_env(env))
                for row_id in row_ids:  # as the sweeper or a request would: one job a row
                    runtime.queue.enqueue(DISPATCH_OUTBOX_ROW, row_id=row_id)
                runtime.close()
                with ExitStack() as workers:
                    for n in range(arguments.workers):
                        workers.enter_context(
                            running(
                                kazi("worker", "--threads", str(arguments.threads)),
                                env,
                                work / f"worker-{n}.log",
                            )
                        )
                    # Timed from the first send done to the last: start-up is not counted.
                    done, first, first_at = 0, 0, 0.0
                    deadline = time.monotonic() + 300
                    while time.monotonic() < deadline and done < len(row_ids):
                        with workspace_session(db, workspace_id) as session:
                            done = int(
                                session.scalar(
                                    select(func.count())
                                    .select_from(OutboxRow)
                                    .where(OutboxRow.state.in_(("done", "failed")))
                                )
                                or 0
                            )
                        if done and not first:
                            first, first_at = done, time.monotonic()
                        time.sleep(0.02)
                    elapsed = time.monotonic() - first_at
                state = httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=30).json()
            with workspace_session(db, workspace_id) as session:
                failed = session.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "failed")
                )
                why = session.execute(
                    select(OutboxRow.last_error, func.count())
                    .where(OutboxRow.state == "failed")
                    .group_by(OutboxRow.last_error)
                ).all()
            for reason, count in why:
                print(f"  failed x{count}: {reason}", flush=True)
            errors = [
                line
                for log in sorted(work.glob("worker-*.log"))
                for line in log.read_text(errors="replace").splitlines()
                if '"level": "error"' in line
            ]
            for line in errors[:3]:
                print(f"  worker error: {line[:1500]}", flush=True)
            rate = (done - first) / elapsed if elapsed > 0 else 0.0
            print(
                f"sends: {rate:.0f} sends/s ({arguments.workers} worker(s) x "
                f"{arguments.threads} threads, number at {arguments.throughput:g} msg/s); "
                f"{state['sends']} accepted by the simulator for {len(row_ids)} rows, "
                f"{state['throttled']} answered 429/130429, "
                f"{len(state['duplicate_sends'])} keys sent twice, {failed} rows failed, "
                f"{len(row_ids) - done} not done (target >= 200 sends/s, each exactly once)",
                flush=True,
            )
        db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
