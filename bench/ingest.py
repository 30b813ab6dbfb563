"""WhatsApp ingest and send benchmark on PostgreSQL + Redis (issue 4, item 7).

    .venv/bin/python bench/ingest.py [--seconds 10] [--connections 50] [--sends 3000]
    .venv/bin/python bench/ingest.py --phases refs,a,open     # ingest only

Everything runs on loopback in a fresh PostgreSQL database (dropped afterwards) and
a queue of its own in Redis. Measured in one run, on one server process each:

  reference noop    a do-nothing Litestar POST (bench/reference.py on granian)
  reference durable the best-practice bare durable endpoint (bench/reference.py):
                    Litestar on granian, async psycopg pool, signature checked,
                    INSERT … ON CONFLICT DO NOTHING, commit, answer 200
  (a) ingest        `kazi serve`: verify, store raw, commit, enqueue, answer 200
                    events/s and latency to the 200 (wrk, closed loop, 50 connections)
  (open)            the reference and `kazi serve` each offered a fixed rate (default
                    320 webhooks/s, Meta's 80 msg/s tier with three statuses a send)
                    for 60 s, open loop: latency counted from when each request was
                    due, so a slow server cannot slow the load down; p50/p99, errors
  (b) end to end    webhook → message stored, conversation updated, rules run, at a
                    steady 200 events/s with one `kazi worker`: p50/p99 latency
  (c) outbound      sends/s through huey (one `kazi worker`) to the simulator

Needs `wrk` (apt-get install wrk) and the bench extra (pip install -e '.[bench]').
Settings: KAZI_BENCH_POSTGRES_URL (an admin URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), KAZI_BENCH_REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reference import CREATE_TABLE as CREATE_REFERENCE_TABLE  # noqa: E402
from connectors.whatsapp.signature import SIGNATURE_HEADER, sign  # noqa: E402
from connectors.whatsapp.simulator.payloads import Business, message_webhook  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.models import Conversation, InboundEvent, Message, OutboxRow  # noqa: E402
from engine.workspaces.load import load_folder  # noqa: E402

ADMIN_URL = os.environ.get(
    "KAZI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KAZI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_SECRET = "bench-app-secret"
ACCESS_TOKEN = "bench-access-token"
SHOP = Business("102938475610293", "104729384756101", "254711502300")
WRK_THREADS = 2

# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], method: str = "GET") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.request(method, url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kazi(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", *arguments]


# --- load -----------------------------------------------------------------------------------


def webhook_body(n: int, run: str, customers: int) -> bytes:
    wa_id = f"2547{(n % customers):08d}"
    document = message_webhook(
        SHOP,
        wa_id,
        f"Customer {n % customers}",
        {
            "from": wa_id,
            "id": f"wamid.bench-{run}-{n}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": f"Habari, order number {n}?"},
        },
    )
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


WRK_SCRIPT = """
-- `id` is a global each thread gets from setup() (a local would shadow it).
local lines = {}
local index = 0
local threads_made = 0
function setup(thread)
  thread:set("id", threads_made)
  threads_made = threads_made + 1
end
function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n % %(threads)d == id then
      local tab = line:find("\\t")
      local headers = {}
      headers["Content-Type"] = "application/json"
      if tab > 1 then headers["%(header)s"] = line:sub(1, tab - 1) end
      lines[#lines + 1] = wrk.format("POST", nil, headers, line:sub(tab + 1))
    end
    n = n + 1
  end
end
function request()
  index = index %% #lines + 1
  return lines[index]
end
"""


def run_wrk(url: str, requests_file: Path, seconds: int, connections: int, work: Path) -> WrkResult:
    script = work / "post.lua"
    script.write_text(
        WRK_SCRIPT.replace("%(threads)d", str(WRK_THREADS))
        .replace("%(header)s", SIGNATURE_HEADER)
        .replace("%%", "%")
    )
    output = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(requests_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return WrkResult(
        rate,
        _percentile(output, "50%"),
        _percentile(output, "99%"),
        total,
        ", ".join(
            part
            for part in (
                f"{errors.group(1)} non-2xx" if errors else "",
                socket_errors.group(1) if socket_errors else "",
            )
            if part
        )
        or "none",
    )


def _percentile(output: str, label: str) -> float:
    match = re.search(rf"\s{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", output)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def write_requests(path: Path, bodies: list[bytes], signed: bool) -> None:
    with path.open("wb") as out:
        for body in bodies:
            signature = sign(body, APP_SECRET).encode() if signed else b""
            out.write(signature + b"\t" + body + b"\n")


# --- the phases -----------------------------------------------------------------------------


@dataclass
class Bench:
    database_url: str
    db: Engine
    work: Path
    seconds: int
    connections: int
    reference_server: str = "granian"

    def env(self, queue: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAZI_")}
        env.update(
            KAZI_DATABASE_URL=self.database_url,
            KAZI_REDIS_URL=REDIS_URL,
            KAZI_QUEUE_NAME=queue,
            KAZI_VAR_DIR=str(self.work / "var"),
            KAZI_CONFIG_DIR=str(ROOT / "configs"),
            KAZI_RETAIL_WA_APP_SECRET=APP_SECRET,
            KAZI_RETAIL_WA_ACCESS_TOKEN=ACCESS_TOKEN,
        )
        env.update(extra)
        return env


def reference_server(bench: Bench, port: int) -> list[str]:
    """bench/reference.py served by one process of `bench.reference_server`."""
    target = "bench.reference:app_from_env"
    if bench.reference_server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", target,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def reference(bench: Bench) -> Iterator[str]:
    """The reference endpoints running; yields their base URL."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        KAZI_BENCH_REFERENCE_URL=make_url(bench.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        KAZI_BENCH_APP_SECRET=APP_SECRET,
    )
    with running(reference_server(bench, port), env, bench.work / "reference.log") as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/noop", process, "POST")
        yield base


def references(bench: Bench) -> tuple[WrkResult, WrkResult]:
    """Closed loop: the web stack alone, then the bare durable endpoint."""
    noop_file = bench.work / "noop.txt"
    write_requests(noop_file, [webhook_body(0, "noop", 1)], signed=False)
    durable_file = bench.work / "reference.txt"
    write_requests(durable_file, [webhook_body(n, "ref", 5000) for n in range(60_000)], signed=True)
    warm = bench.work / "reference-warm.txt"
    write_requests(warm, [webhook_body(n, "ref-warm", 5000) for n in range(6000)], signed=True)
    with reference(bench) as base:
        run_wrk(f"{base}/noop", noop_file, 2, bench.connections, bench.work)  # warm up
        noop = run_wrk(f"{base}/noop", noop_file, bench.seconds, bench.connections, bench.work)
        run_wrk(f"{base}/webhook", warm, 2, bench.connections, bench.work)
        durable = run_wrk(
            f"{base}/webhook", durable_file, bench.seconds, bench.connections, bench.work
        )
    return noop, durable


@dataclass(frozen=True)
class OpenResult:
    offered: int
    seconds: int
    answered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    late_ms: float  # p99 of how long a due request waited for a free connection


OPEN_CONNECTIONS = 64


def open_loop(url: str, bodies: list[bytes], rate: int, seconds: int, warm: int = 2) -> OpenResult:
    """`rate` signed webhooks a second for `warm` + `seconds`, each sent when it is due
    whatever the earlier ones are doing (open loop, like wrk2), over a fixed set of
    keep-alive connections; only the last `seconds` are counted. Latency runs from
    when a request was due to its answer, so a server that stalls is charged for every
    request queued behind the stall (no coordinated omission). The client is raw
    asyncio with the requests built beforehand, so it costs the 2 cores little."""
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    total = rate * (warm + seconds)
    requests = [
        (
            f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{SIGNATURE_HEADER}: {sign(body, APP_SECRET)}\r\n\r\n"
        ).encode()
        + body
        for body in (bodies[n % len(bodies)] for n in range(total))
    ]
    latencies: list[float] = []
    late: list[float] = []
    errors: dict[str, int] = {}
    counted_from = rate * warm

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def run() -> None:
        due_queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
        start = time.monotonic() + 0.2

        async def connection() -> None:
            reader, writer = await asyncio.open_connection(host, port)
            while (item := await due_queue.get()) is not None:
                n, due = item
                if n >= counted_from:
                    late.append(time.monotonic() - due)
                try:
                    writer.write(requests[n])
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head.split(b" ", 2)[1])
                    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    await reader.readexactly(int(length.group(1)) if length else 0)
                except (OSError, asyncio.IncompleteReadError, ValueError) as failure:
                    if n >= counted_from:
                        error(type(failure).__name__)
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if n >= counted_from:
                    latencies.append(time.monotonic() - due)
                    if status != 200:
                        error(f"HTTP {status}")
            writer.close()

        workers = [asyncio.create_task(connection()) for _ in range(OPEN_CONNECTIONS)]
        for n in range(total):
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due_queue.put_nowait((n, due))
        for _ in workers:
            due_queue.put_nowait(None)
        await asyncio.gather(*workers)

    asyncio.run(run())
    finite = latencies or [float("nan")]
    return OpenResult(
        offered=rate,
        seconds=seconds,
        answered=len(latencies),
        p50_ms=_ms(finite, 0.5),
        p99_ms=_ms(finite, 0.99),
        max_ms=max(finite) * 1000,
        errors=errors,
        late_ms=_ms(late or [0.0], 0.99),
    )


def open_loops(
    bench: Bench, workspace_id: int, rate: int, seconds: int
) -> tuple[OpenResult, OpenResult]:
    """The reference, then `kazi serve` (no worker, as in (a)), at the same offered rate."""
    count = rate * (seconds + 2)
    with reference(bench) as base:
        bodies = [webhook_body(n, "open-ref", 5000) for n in range(count)]
        referenced = open_loop(f"{base}/webhook", bodies, rate, seconds)
    port = free_port()
    env = bench.env(f"bench-open-{uuid.uuid4().hex[:6]}", KAZI_BIND=f"127.0.0.1:{port}")
    with running(kazi("serve"), env, bench.work / "serve-open.log") as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", process)
        bodies = [webhook_body(n, "open", 5000) for n in range(count)]
        kazi_result = open_loop(f"{base}/webhooks/whatsapp/retail", bodies, rate, seconds)
    with workspace_session(bench.db, workspace_id) as session:
        session.execute(text("DELETE FROM inbound_events"))
        session.commit()
    return referenced, kazi_result


def _open_row(label: str, result: OpenResult) -> None:
    errors = ", ".join(f"{n} {kind}" for kind, n in sorted(result.errors.items())) or "none"
    print(
        f"{label:<18} {result.offered}/s offered for {result.seconds} s: "
        f"{result.answered} answered, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"max {result.max_ms:.0f} ms; errors: {errors} "
        f"(p99 wait for one of {OPEN_CONNECTIONS} connections: {result.late_ms:.1f} ms)",
        flush=True,
    )


def ingest(bench: Bench, workspace_id: int) -> tuple[WrkResult, int]:
    """(a): as many distinct signed webhooks as one `kazi serve` takes, no worker running."""
    port = free_port()
    env = bench.env(f"bench-a-{uuid.uuid4().hex[:6]}", KAZI_BIND=f"127.0.0.1:{port}")
    # Enough distinct events that the run never wraps round into duplicates.
    count = 60_000
    requests_file = bench.work / "ingest.txt"
    write_requests(requests_file, [webhook_body(n, "a", 5000) for n in range(count)], True)
    warm = bench.work / "warm.txt"
    write_requests(warm, [webhook_body(n, "warm", 5000) for n in range(6000)], True)
    with running(kazi("serve"), env, bench.work / "serve-a.log") as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", process)
        url = f"{base}/webhooks/whatsapp/retail"
        run_wrk(url, warm, 2, bench.connections, bench.work)
        result = run_wrk(url, requests_file, bench.seconds, bench.connections, bench.work)
    with workspace_session(bench.db, workspace_id) as session:
        stored = session.scalar(
            select(func.count())
            .select_from(InboundEvent)
            .where(InboundEvent.dedup_key.like("%bench-a-%"))
        )
        # Nothing of phase (a) may be worked on in phase (b).
        session.execute(text("DELETE FROM inbound_events"))
        session.commit()
    return result, int(stored or 0)


def end_to_end(bench: Bench, workspace_id: int, rate: int, seconds: int) -> list[float]:
    """(b): a steady `rate` of webhooks; how long until each message is stored and applied."""
    port = free_port()
    env = bench.env(f"bench-b-{uuid.uuid4().hex[:6]}", KAZI_BIND=f"127.0.0.1:{port}")
    total = rate * seconds
    bodies = [webhook_body(n, "b", 300) for n in range(total)]
    sent_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    with (
        running(kazi("serve"), env, bench.work / "serve-b.log") as server,
        running(kazi("worker"), env, bench.work / "worker-b.log"),
    ):
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", server)
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(bench.db, workspace_id, seen_at, stop))
        watcher.start()
        try:
            # Start the clock once the worker is up and has applied one event.
            warm = webhook_body(0, "warm-b", 1)
            httpx.post(
                f"{base}/webhooks/whatsapp/retail",
                content=warm,
                headers={SIGNATURE_HEADER: sign(warm, APP_SECRET)},
                timeout=10,
            ).raise_for_status()
            ready_by = time.monotonic() + 60
            while "wamid.bench-warm-b-0" not in seen_at and time.monotonic() < ready_by:
                time.sleep(0.05)
            asyncio.run(_steady(f"{base}/webhooks/whatsapp/retail", bodies, rate, sent_at))
            deadline = time.monotonic() + 30
            while len(seen_at) < total and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            watcher.join()
    with workspace_session(bench.db, workspace_id) as session:
        # What the worker did not reach must not compete with phase (c).
        session.execute(text("DELETE FROM inbound_events WHERE state <> 'processed'"))
        session.commit()
    sent_at.pop("wamid.bench-warm-b-0", None)
    return [seen_at[w] - sent_at[w] for w in sent_at if w in seen_at] + [
        float("inf") for w in sent_at if w not in seen_at
    ]


async def _steady(url: str, bodies: list[bytes], rate: int, sent_at: dict[str, float]) -> None:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        start = time.monotonic()

        async def one(n: int, body: bytes) -> None:
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            wamid = f"wamid.bench-b-{n}"
            sent_at[wamid] = time.monotonic()
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, APP_SECRET)}
            response = await client.post(url, content=body, headers=headers)
            response.raise_for_status()

        await asyncio.gather(*(one(n, body) for n, body in enumerate(bodies)))


def _watch(db: Engine, workspace_id: int, seen_at: dict[str, float], stop: threading.Event) -> None:
    """Notes when each message is visible, stored with its conversation updated (one commit)."""
    last = 0
    while not stop.is_set():
        with workspace_session(db, workspace_id) as session:
            rows = session.execute(
                select(Message.id, Message.provider_message_id)
                # Ids commit out of order across worker threads: look back a little.
                .where(Message.id > last - 200, Message.direction == "inbound")
                .order_by(Message.id)
            ).all()
            session.rollback()
        now = time.monotonic()
        for message_id, wamid in rows:
            seen_at.setdefault(wamid, now)
            last = max(last, message_id)
        time.sleep(0.01)


def outbound(
    bench: Bench, workspace_id: int, sends: int, threads: int, processes: int
) -> tuple[float, int]:
    """(c): `sends` templates queued and enqueued; sends/s until every row is done."""
    from engine.composition import build_runtime
    from engine.jobs.names import DISPATCH_OUTBOX_ROW
    from engine.outbox.sends import queue_template
    from engine.settings import Settings

    simulator_port = free_port()
    queue = f"bench-c-{uuid.uuid4().hex[:6]}"
    env = bench.env(queue, KAZI_WHATSAPP_API_URL=f"http://127.0.0.1:{simulator_port}")
    simulator = kazi(
        "simulate",
        "--no-script",
        "--no-statuses",
        "--bind",
        f"127.0.0.1:{simulator_port}",
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
        # Meta's higher tier; the sample number sets no messages_per_second of its own.
        # bench/sends.py measures sends with the number's limit paced by Kazi.
        "--throughput",
        "1000",
    )
    with workspace_session(bench.db, workspace_id) as session:
        conversations = list(session.scalars(select(Conversation.id).limit(100)))
        now = datetime.now(UTC)
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
        row_ids = list(session.scalars(select(OutboxRow.id).where(OutboxRow.state == "queued")))
    runtime = build_runtime(Settings.from_env(env))
    with running(simulator, env, bench.work / "simulator.log") as process:
        wait_for(f"http://127.0.0.1:{simulator_port}/_sim/state", process)
        for row_id in row_ids:
            runtime.queue.enqueue(DISPATCH_OUTBOX_ROW, row_id=row_id)
        with ExitStack() as workers:
            for n in range(processes):
                workers.enter_context(
                    running(
                        kazi("worker", "--threads", str(threads)), env, bench.work / f"c-{n}.log"
                    )
                )
            # Timed from the first send done to the last, so worker start-up is not counted.
            done, first, first_at = 0, 0, 0.0
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and done < len(row_ids):
                with workspace_session(bench.db, workspace_id) as session:
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
        sent = len(httpx.get(f"http://127.0.0.1:{simulator_port}/_sim/sends", timeout=30).json())
    runtime.close()
    return (done - first) / elapsed, sent


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rate", type=int, default=200, help="events/s for (b)")
    parser.add_argument("--steady-seconds", type=int, default=15, help="length of (b)")
    parser.add_argument("--sends", type=int, default=3000, help="sends for (c)")
    parser.add_argument("--send-workers", type=int, default=1, help="worker processes for (c)")
    parser.add_argument("--send-threads", type=int, default=8, help="worker threads for (c)")
    parser.add_argument("--open-rate", type=int, default=320, help="webhooks/s, open loop")
    parser.add_argument("--open-seconds", type=int, default=60, help="length of the open loop")
    parser.add_argument("--reference-server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument(
        "--phases",
        default="refs,a,open,b,c",
        help="which to run, of refs,a,open,b,c (default: all)",
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    name = f"kazi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(database_url)
        db = make_engine(database_url)
        with db.begin() as connection:
            connection.execute(text(CREATE_REFERENCE_TABLE))
        workspace_id = load_folder(db, ROOT / "configs" / "retail", datetime.now(UTC))
        with tempfile.TemporaryDirectory(prefix="kazi-bench-") as work:
            bench = Bench(
                database_url,
                db,
                Path(work),
                arguments.seconds,
                arguments.connections,
                arguments.reference_server,
            )
            print(
                f"PostgreSQL {db.dialect.server_version_info}, Redis, {os.cpu_count()} cores; "
                f"wrk {WRK_THREADS} threads, {arguments.connections} connections, "
                f"{arguments.seconds} s a run",
                flush=True,
            )
            phases = set(arguments.phases.split(","))
            inserted = None
            if "refs" in phases:
                noop, inserted = references(bench)
                _row("reference noop", noop)
                _row("reference durable", inserted)
            if "a" in phases:
                result, stored = ingest(bench, workspace_id)
                _row("(a) kazi ingest", result)
                share = (
                    f"{result.requests_per_second / inserted.requests_per_second:.0%} of the "
                    "bare durable endpoint; "
                    if inserted
                    else ""
                )
                print(
                    f"    {stored} events stored for {result.requests} answers; {share}"
                    "target >= 60 %",
                    flush=True,
                )
            if "open" in phases:
                referenced, kazi_open = open_loops(
                    bench, workspace_id, arguments.open_rate, arguments.open_seconds
                )
                _open_row("reference durable", referenced)
                _open_row("(open) kazi ingest", kazi_open)
                print("    target: p99 < 250 ms, no errors", flush=True)
            if "b" in phases or "c" in phases:
                latencies = end_to_end(
                    bench, workspace_id, arguments.rate, arguments.steady_seconds
                )
                lost = sum(1 for value in latencies if value == float("inf"))
                finite = [value for value in latencies if value != float("inf")] or [float("nan")]
                print(
                    f"(b) end to end at {arguments.rate}/s for {arguments.steady_seconds} s, "
                    f"one worker: p50 {_ms(finite, 0.5):.0f} ms, p99 {_ms(finite, 0.99):.0f} ms,"
                    f" max {max(finite) * 1000:.0f} ms; {len(latencies) - lost} applied, {lost} "
                    "not within 30 s after the last (target p99 < 1 s)",
                    flush=True,
                )
            if "c" in phases:
                rate, sent = outbound(
                    bench,
                    workspace_id,
                    arguments.sends,
                    arguments.send_threads,
                    arguments.send_workers,
                )
                print(
                    f"(c) outbound through huey to the simulator, {arguments.send_workers} "
                    f"worker process(es) of {arguments.send_threads} threads: {rate:.0f} sends/s; "
                    f"{sent} sends for "
                    f"{arguments.sends} rows (target >= 200 sends/s)",
                    flush=True,
                )
        db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


def _row(label: str, result: WrkResult) -> None:
    print(
        f"{label:<18} {result.requests_per_second:>8.0f} req/s   p50 {result.p50_ms:6.1f} ms   "
        f"p99 {result.p99_ms:6.1f} ms   errors: {result.errors}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
