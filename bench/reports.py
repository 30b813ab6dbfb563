"""Benchmark: every section of the reports page for a 90-day period on a big workspace.

    python bench/reports.py [--contacts 30000] [--conversations 100000] [--messages 1000000]
                            [--runs 50] [--keep | --reuse]

Seeds a PostgreSQL database (`kazi_bench_reports`) with bench/inbox.py's generator
(contacts, conversations over two years, English/Swahili messages, teammates and teams)
plus a stage history for every conversation in a pipeline and a first-response SLA clock
per conversation, then builds the report tallies from that record with
`engine.conversations.tallies.rebuild` (the same recount the tests compare against) and
times, p50/p95 in ms:

  * each report section as the page computes it (one workspace session each);
  * the whole page: GET /reports through Litestar's TestClient, signed in as a manager
    (every query, the pygal charts, the template).

The default size seeds and rebuilds in a few minutes on 2 cores; bench/inbox.py's full
size (100,000 / 300,000 / 3,000,000) works too, given time. Target: p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import inbox  # noqa: E402  (bench/inbox.py: the generator and its helpers)

from engine.automation.runner import rules_in_force  # noqa: E402
from engine.conversations.tallies import rebuild  # noqa: E402
from engine.db import make_engine, migrate, workspace_session  # noqa: E402
from engine.reports import figures as sections  # noqa: E402
from engine.workspaces.directory import ConfigDirectory  # noqa: E402

DATABASE = "kazi_bench_reports"
TARGET_MS = 300.0
PERIOD_DAYS = 90
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def seed_history(engine: Engine, seeded: inbox.Seeded) -> tuple[int, int]:
    """Stage moves up to each conversation's stage, and a first-response clock each."""
    sizes = seeded.sizes
    teammates = len(seeded.teammates)
    first_conversation = seeded.first_ids["conversations"]
    sink = inbox.Sink(engine, inbox.Progress(True))
    stage_rows = clock_rows = 0

    def moves() -> Iterator[tuple[Any, ...]]:
        nonlocal stage_rows
        for index in range(sizes.conversations):
            thread = inbox.thread(index, sizes, teammates, NOW)
            if thread.stage is None:
                continue
            rng = random.Random(index)
            path = inbox.STAGES[: inbox.STAGES.index(thread.stage) + 1]
            if thread.stage == "lost":
                path = ("new", "lost")
            at = thread.opened_at
            previous = None
            for stage in path:
                stage_rows += 1
                yield (
                    seeded.workspace_id,
                    "conversation",
                    first_conversation + index,
                    "sales",
                    previous,
                    stage,
                    "teammate",
                    at,
                )
                previous = stage
                at += timedelta(minutes=rng.randrange(5, 3_000))

    sink.write(
        "stage_history",
        (
            "workspace_id",
            "subject_kind",
            "subject_id",
            "pipeline",
            "from_stage",
            "to_stage",
            "actor_kind",
            "at",
        ),
        sizes.conversations * 2,
        moves(),
    )

    def clocks() -> Iterator[tuple[Any, ...]]:
        nonlocal clock_rows
        for index in range(sizes.conversations):
            thread = inbox.thread(index, sizes, teammates, NOW)
            rng = random.Random(index + 1)
            due = thread.opened_at + timedelta(hours=1)
            answered = thread.opened_at + timedelta(minutes=rng.randrange(1, 120))
            stopped = answered if thread.status == "resolved" else None
            met = None if stopped is None else answered <= due
            clock_rows += 1
            yield (
                seeded.workspace_id,
                first_conversation + index,
                "first_response",
                "standard",
                thread.opened_at,
                due,
                stopped,
                met,
                due if met is False else None,
            )

    sink.write(
        "sla_clocks",
        (
            "workspace_id",
            "conversation_id",
            "kind",
            "policy",
            "started_at",
            "due_at",
            "stopped_at",
            "met",
            "breached_at",
        ),
        sizes.conversations,
        clocks(),
    )
    return stage_rows, clock_rows


def _timed(figure: inbox.Figure, call: Callable[[], Any]) -> None:
    started = time.perf_counter()
    call()
    figure.times_ms.append((time.perf_counter() - started) * 1000)


def seed_automations_and_payments(engine: Engine, seeded: inbox.Seeded) -> tuple[int, int]:
    """One outbound message in twelve becomes a rule's (two rule names), so the automation
    section has sends to follow up; one conversation in eight gets an M-Pesa request, most
    paid, some failed or still open."""
    workspace = seeded.workspace_id
    with engine.begin() as connection:
        sends = connection.execute(
            text(
                "UPDATE messages SET author_kind = 'rule', author_teammate_id = NULL, "
                "author_rule = CASE WHEN id % 24 = 0 THEN 'Quote reminder' "
                "ELSE 'Payment nudge' END "
                "WHERE workspace_id = :w AND direction = 'outbound' AND id % 12 = 0"
            ),
            {"w": workspace},
        ).rowcount
        paid = connection.execute(
            text(
                "INSERT INTO payments (workspace_id, provider, integration, source, request_key, "
                "conversation_id, phone, amount, paid_amount, currency, state, requested_at, "
                "queries, created_at, updated_at) "
                "SELECT workspace_id, 'mpesa', 'mpesa', 'stk', 'bench-' || id, id, NULL, "
                "1000 + id % 50 * 100, CASE WHEN id % 5 < 3 THEN 1000 + id % 50 * 100 END, "
                "'KES', CASE WHEN id % 5 < 3 THEN 'paid' WHEN id % 5 = 3 THEN 'failed' "
                "ELSE 'pending' END, opened_at + interval '2 hours', 0, now(), now() "
                "FROM conversations WHERE workspace_id = :w AND id % 8 = 0"
            ),
            {"w": workspace},
        ).rowcount
        connection.execute(text("ANALYZE messages"))
        connection.execute(text("ANALYZE payments"))
    return int(sends or 0), int(paid or 0)


def measure(
    url: str, engine: Engine, seeded: inbox.Seeded, configs: Path, var: Path, runs: int
) -> list[inbox.Figure]:
    end = NOW.date()
    start = end - timedelta(days=PERIOD_DAYS - 1)
    directory = ConfigDirectory(configs)
    with workspace_session(engine, seeded.workspace_id) as session:
        rules = rules_in_force(session, directory, seeded.workspace_id)
    config = rules.config if rules else None
    manager_id = next(t[0] for t in seeded.teammates if t[2].label == "manager")
    team_id = seeded.teammates[5][3]
    plain = sections.Filters(start, end)
    filtered = sections.Filters(start, end, team_id=team_id)
    person = sections.Filters(start, end, teammate_id=manager_id)
    calls: list[tuple[str, Callable[[Any], Any]]] = [
        ("durations + trend (90 days)", lambda s: sections.durations(s, plain)),
        ("durations, one team", lambda s: sections.durations(s, filtered)),
        ("SLA compliance per policy", lambda s: sections.sla(s, plain)),
        ("pipeline funnel", lambda s: sections.funnel(s, plain, config)),
        ("volume heatmap", lambda s: sections.heatmap(s, plain)),
        ("per-teammate table", lambda s: sections.teammates(s, plain)),
        ("automations -> replies", lambda s: sections.automations(s, plain)),
        ("payments requested -> confirmed", lambda s: sections.payments(s, plain)),
        ("whole report, one teammate", lambda s: sections.report(s, person, config)),
        ("whole report (every section)", lambda s: sections.report(s, plain, config)),
    ]
    figures = [inbox.Figure(name, "service", TARGET_MS) for name, _ in calls]
    for _ in range(runs):
        for figure, (_, call) in zip(figures, calls, strict=True):
            with workspace_session(engine, seeded.workspace_id) as session:
                _timed(figure, lambda: call(session))  # noqa: B023 (called at once)
    figures += _pages(url, seeded, configs, var, runs, start, end)
    return figures


def _pages(
    url: str, seeded: inbox.Seeded, configs: Path, var: Path, runs: int, start: date, end: date
) -> list[inbox.Figure]:
    from litestar.testing import TestClient

    from engine.composition import build_runtime
    from engine.core.clock import FrozenClock
    from engine.settings import Settings
    from ui.app import create_app

    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": url,
            "KAZI_VAR_DIR": str(var),
            "KAZI_CONFIG_DIR": str(configs),
            "KAZI_QUEUE_NAME": f"bench-{seeded.slug}",
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    manager = next(t[1] for t in seeded.teammates if t[2].label == "manager")
    page = inbox.Figure("GET /reports (90 days)", "page", TARGET_MS)
    export = inbox.Figure("GET /reports/funnel.csv (90 days)", "page", TARGET_MS)
    query = f"start={start}&end={end}"
    with TestClient(create_app(runtime)) as client:
        if not inbox._sign_in(client, seeded.slug, manager):
            raise RuntimeError("could not sign in to the benchmark workspace")

        def get(path: str) -> None:
            answer = client.get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path}: {answer.status_code}")

        for _ in range(runs):
            _timed(page, lambda: get(f"/reports?{query}"))
            _timed(export, lambda: get(f"/reports/funnel.csv?{query}"))
    runtime.db.dispose()
    return [page, export]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--teammates", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--admin-url", default=inbox.ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="leave the database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure a database --keep left")
    args = parser.parse_args(argv)
    sizes = inbox.Sizes(args.contacts, args.conversations, args.messages, args.teammates)
    url = inbox.bench_database_url(args.admin_url, DATABASE, fresh=not args.reuse)
    print(f"database: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr)
    migrate(url)
    engine = make_engine(url)
    try:
        if args.reuse:
            seeded = inbox.saved_seed(engine)
        else:
            started = time.perf_counter()
            seeded = inbox.seed(engine, sizes, NOW, progress=True)
            moves, clocks = seed_history(engine, seeded)
            rule_sends, payments = seed_automations_and_payments(engine, seeded)
            print(
                f"marked {rule_sends:,} sends as rule-sent, added {payments:,} payments",
                file=sys.stderr,
            )
            print(
                f"seeded {sizes} + {moves:,} stage moves, {clocks:,} SLA clocks "
                f"in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        with inbox.config_folder(seeded.slug) as folder:
            configs = folder / "configs"
            if not args.reuse:
                started = time.perf_counter()
                with workspace_session(engine, seeded.workspace_id) as session:
                    rules = rules_in_force(session, ConfigDirectory(configs), seeded.workspace_id)
                    assert rules is not None
                    rebuild(session, seeded.workspace_id, rules.graph.calendar)
                    session.commit()
                print(
                    f"rebuilt the report tallies in {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE report_tallies"))  # as autovacuum would
            figures = measure(url, engine, seeded, configs, folder / "var", args.runs)
    finally:
        engine.dispose()
        if not args.keep and not args.reuse:
            inbox.drop_database(args.admin_url, DATABASE)
    print(
        f"\nReports benchmark: {seeded.sizes.contacts:,} contacts, "
        f"{seeded.sizes.conversations:,} conversations, {seeded.sizes.messages:,} messages; "
        f"a {PERIOD_DAYS}-day period; {args.runs} runs each.\n"
    )
    print(inbox.table(figures))


if __name__ == "__main__":
    main()
