"""Outages (issue 4, item 6): the database unreachable → the webhook answers 5xx so the
provider retries, never 200-then-drop; Redis stopped during a burst → every event is
processed once it is back (the sweeper re-enqueues what the lost queue held)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connectors.whatsapp.simulator.payloads import message_webhook
from engine.db import make_engine, workspace_session
from engine.models import InboundEvent, Message
from tests.reliability.harness import APP_SECRET, SETTLED_INBOUND, SHOP, Stack, encode, signed_post
from tests.reliability.history import check_history
from tests.reliability.processes import (
    RedisServer,
    free_port,
    kazi_env,
    start_kazi,
    stop,
    wait_for_server,
    wait_until,
)
from tests.reliability.test_processes import FAST_TIMINGS

pytestmark = pytest.mark.services


def _unreachable_database(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'kazi.sqlite3'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kazi"


def test_an_unreachable_database_makes_the_webhook_answer_5xx_until_it_is_back(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    reachable = stack.runtime.db
    stack.runtime.db = make_engine(_unreachable_database(database_url, tmp_path))
    try:
        wamid = stack.customer_says("254722500001", {"text": "Are you open today?"})

        def refused() -> bool:
            log = stack.simulator.delivery.log
            return bool(log) and (log[-1].last_status or 0) >= 500 and log[-1].attempts >= 2

        wait_until(refused, 15, "the provider to be refused and retry")
        assert stack.simulator.delivery.log[-1].delivered == 0
    finally:
        stack.runtime.db.dispose()
        stack.runtime.db = reachable
    # The provider's next retry lands once the database is back: stored once, applied.
    wait_until(lambda: stack.simulator.delivery.log[-1].delivered == 1, 15, "a retry to land")

    def applied() -> bool:
        with workspace_session(stack.db, stack.workspace_id) as session:
            return (
                session.scalar(select(Message.id).where(Message.provider_message_id == wamid))
                is not None
            )

    stack.drain(lambda: stack.settled() and applied())
    check_history(stack.db, stack.workspace_id, [], delivered_wamids=[wamid])


def _message_body(n: int) -> bytes:
    wa_id = f"2547226{n:05d}"
    return encode(
        message_webhook(
            SHOP,
            wa_id,
            f"Customer {n}",
            {
                "from": wa_id,
                "id": f"wamid.redis-outage-{n}",
                "type": "text",
                "timestamp": str(int(datetime.now(UTC).timestamp())),
                "text": {"body": f"Message {n}"},
            },
        )
    )


# Redis exists on the PostgreSQL run only (the SQLite run queues jobs in a SQLite file).
if os.environ.get("KAZI_TEST_BACKEND") == "postgres":

    def test_redis_stopped_during_a_burst_loses_no_event(
        database_url: str,
        queue_name: str,
        tmp_path: Path,
        db: Engine,
        workspace: tuple[int, Path, str],
    ) -> None:
        workspace_id, config_dir, slug = workspace
        redis = RedisServer(tmp_path / "redis")
        redis.start()
        env = kazi_env(
            KAZI_DATABASE_URL=database_url,
            KAZI_REDIS_URL=redis.url,
            KAZI_VAR_DIR=str(tmp_path / "var"),
            KAZI_CONFIG_DIR=str(config_dir),
            KAZI_QUEUE_NAME=queue_name,
            KAZI_BIND=f"127.0.0.1:{free_port()}",
            KAZI_RETAIL_WA_APP_SECRET=APP_SECRET,
            **FAST_TIMINGS,
        )
        url = f"http://{env['KAZI_BIND']}/webhooks/whatsapp/{slug}"
        server = start_kazi("serve", env, tmp_path / "serve.log")
        worker = start_kazi("worker", env, tmp_path / "worker.log")
        try:
            wait_for_server(f"http://{env['KAZI_BIND']}", server, tmp_path / "serve.log")

            def post_burst(numbers: range) -> None:
                with ThreadPoolExecutor(8) as pool:
                    answers = list(pool.map(lambda n: signed_post(url, _message_body(n)), numbers))
                assert [a.status_code for a in answers] == [200] * len(answers)

            post_burst(range(0, 20))
            redis.stop()  # queued jobs die with it
            post_burst(range(20, 40))  # stored and answered 200 while the queue is down
            redis.start()
            post_burst(range(40, 60))

            def processed() -> bool:
                with workspace_session(db, workspace_id) as session:
                    owed = session.scalar(
                        select(func.count())
                        .select_from(InboundEvent)
                        .where(InboundEvent.state.not_in(SETTLED_INBOUND))
                    )
                    stored = session.scalar(select(func.count()).select_from(Message))
                return owed == 0 and stored == 60

            wait_until(processed, 60, "every event to be processed after Redis came back")
        finally:
            stop(server)
            stop(worker)
            redis.stop()
        check_history(
            db, workspace_id, [], delivered_wamids=[f"wamid.redis-outage-{n}" for n in range(60)]
        )
