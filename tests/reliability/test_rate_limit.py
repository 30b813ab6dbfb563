"""The per-number send rate limit (issue 4, item 4): a token bucket shared by every
worker, asked by the send executor; a send over the limit waits, it does not fail."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.whatsapp.fake import FakeSender
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.models import Conversation, Message, OutboxRow
from engine.outbox.dispatch import ExecutionFailed, dispatch_outbox_row
from engine.outbox.rate_limit import (
    RedisTokenBuckets,
    SqliteTokenBuckets,
    TokenBuckets,
    refill,
)
from engine.outbox.sends import queue_text
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from engine.whatsapp.senders import RateLimitedSender, WhatsAppSenders
from engine.workspaces.directory import ConfigDirectory
from tests.reliability.harness import Stack

pytestmark = pytest.mark.services

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_bucket_holds_one_seconds_worth_and_refills_at_the_rate() -> None:
    tokens, at, wait = refill(5.0, 0.0, 5.0, 0.0)
    assert (tokens, wait) == (4.0, 0.0)
    tokens, at, wait = refill(0.0, 0.0, 5.0, 0.0)
    assert wait == pytest.approx(0.2)
    tokens, at, wait = refill(0.0, 0.0, 5.0, 100.0)  # long idle: capped at capacity
    assert tokens == 4.0 and at == 100.0
    tokens, at, wait = refill(0.5, 10.0, 5.0, 9.0)  # another worker's clock is behind
    assert at == 10.0 and wait == pytest.approx(0.1)


def _buckets(kind: str, tmp_path: Path, redis_url: str | None) -> tuple[TokenBuckets, TokenBuckets]:
    """Two independent handles on one store, as two worker processes would hold."""
    if kind == "sqlite":
        return SqliteTokenBuckets(tmp_path / "rate.sqlite3"), SqliteTokenBuckets(
            tmp_path / "rate.sqlite3"
        )
    assert redis_url is not None
    prefix = f"kazi-test:{uuid.uuid4().hex[:8]}"
    return RedisTokenBuckets(redis_url, prefix), RedisTokenBuckets(redis_url, prefix)


# Redis is there on the PostgreSQL run only; the SQLite file store is tested on both.
STORES = ["sqlite", "redis"] if os.environ.get("KAZI_TEST_BACKEND") == "postgres" else ["sqlite"]


@pytest.mark.parametrize("kind", STORES)
def test_two_workers_draw_from_one_bucket(kind: str, tmp_path: Path, redis_url: str | None) -> None:
    first, second = _buckets(kind, tmp_path, redis_url)
    now = START
    taken = [
        (first if n % 2 else second).take("1:104729384756101", 4.0, now) == timedelta(0)
        for n in range(10)
    ]
    assert taken.count(True) == 4  # one second's worth, whichever worker asks
    wait = first.take("1:104729384756101", 4.0, now)
    assert wait > timedelta(0)
    assert second.take("1:104729384756101", 4.0, now + wait) == timedelta(0)
    assert first.take("1:other-number", 4.0, now) == timedelta(0)  # each number its own


def test_a_send_over_the_limit_is_requeued_not_failed(stack: Stack, tmp_path: Path) -> None:
    stack.customer_says("254722400001", {"text": "Hi"})

    def conversation() -> int | None:
        with workspace_session(stack.db, stack.workspace_id) as session:
            return session.scalar(select(Conversation.id))

    stack.drain(lambda: conversation() is not None and stack.settled())
    clock = FrozenClock(datetime.now(UTC))
    fake = FakeSender(clock=clock)
    buckets = SqliteTokenBuckets(tmp_path / "rate.sqlite3")
    executors = {
        SEND_KIND: make_send_executor(
            lambda ws, number: RateLimitedSender(fake, buckets, f"{ws}:{number}", 2.0)
        )
    }
    with workspace_session(stack.db, stack.workspace_id) as session:
        conversation_id = conversation()
        assert conversation_id is not None
        ids = [
            queue_text(
                session,
                conversation_id=conversation_id,
                body=f"Reply {n}",
                author_teammate_id=None,
                now=clock.now(),
            ).id
            for n in range(3)
        ]
        session.commit()
        rows = [r.id for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    for row_id in rows:
        dispatch_outbox_row(row_id=row_id, db=stack.db, clock=clock, executors=executors)
    assert len(fake.sent) == 2  # two a second
    with workspace_session(stack.db, stack.workspace_id) as session:
        waiting = session.get(OutboxRow, rows[2])
        message = session.get(Message, ids[2])
        assert waiting is not None and message is not None
        assert (waiting.state, waiting.attempts, message.delivery_state) == ("queued", 0, "queued")
        assert waiting.next_attempt_at is not None
        assert waiting.next_attempt_at - clock.now() == pytest.approx(
            timedelta(seconds=0.5), abs=timedelta(milliseconds=5)
        )
    clock.advance(timedelta(seconds=0.5))
    dispatch_outbox_row(row_id=rows[2], db=stack.db, clock=clock, executors=executors)
    assert len(fake.sent) == 3


def test_the_limit_comes_from_the_numbers_config(stack: Stack, tmp_path: Path) -> None:
    workspace_file = stack.runtime.settings.config_dir / stack.slug / "workspace.yaml"
    text = workspace_file.read_text(encoding="utf-8")
    marker = '    phone_number_id: "104729384756101"\n'
    assert marker in text
    workspace_file.write_text(text.replace(marker, marker + "    messages_per_second: 3\n"))
    configs = ConfigDirectory(stack.runtime.settings.config_dir)
    env = {"KAZI_RETAIL_WA_ACCESS_TOKEN": "t", "KAZI_VAR_DIR": str(tmp_path)}
    sender = WhatsAppSenders(stack.db, configs, env=env)(stack.workspace_id, "+254711502300")
    assert isinstance(sender, RateLimitedSender)
    now = datetime.now(UTC)
    admitted = [sender.admit(now) == timedelta(0) for _ in range(5)]
    assert admitted == [True, True, True, False, False]


def test_a_send_that_cannot_be_tried_shows_as_failed_not_queued_forever(stack: Stack) -> None:
    stack.customer_says("254722400002", {"text": "Hi"})

    def conversation() -> int | None:
        with workspace_session(stack.db, stack.workspace_id) as session:
            return session.scalar(select(Conversation.id))

    stack.drain(lambda: conversation() is not None and stack.settled())

    def no_token(workspace_id: int, number: str) -> FakeSender:
        raise ExecutionFailed("the WhatsApp access token is not set", retryable=False)

    clock = FrozenClock(datetime.now(UTC))
    with workspace_session(stack.db, stack.workspace_id) as session:
        conversation_id = conversation()
        assert conversation_id is not None
        message_id = queue_text(
            session,
            conversation_id=conversation_id,
            body="Reply",
            author_teammate_id=None,
            now=clock.now(),
        ).id
        session.commit()
        row_id = session.scalars(select(OutboxRow.id)).one()
    executors = {SEND_KIND: make_send_executor(no_token)}
    dispatch_outbox_row(row_id=row_id, db=stack.db, clock=clock, executors=executors)
    with workspace_session(stack.db, stack.workspace_id) as session:
        message = session.get(Message, message_id)
        row = session.get(OutboxRow, row_id)
        assert message is not None and row is not None
        assert (message.delivery_state, message.failure_code) == ("failed", "configuration")
        assert row.state == "failed"
