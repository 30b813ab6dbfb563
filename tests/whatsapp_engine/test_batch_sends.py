"""Sends in batches (issue 11, item 3): one job claims many ready rows in one transaction,
sends them concurrently, records every outcome in one more; each send exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.payloads import message_webhook
from engine.db import workspace_session
from engine.models import Message, OutboxRow
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.rate_limit import SqliteTokenBuckets
from engine.outbox.sends import queue_read_receipt
from engine.whatsapp.outbound import READ_KIND, SEND_KIND, make_read_executor, make_send_executor
from engine.whatsapp.senders import RateLimitedSender
from tests.applying import apply_and_step
from tests.whatsapp_engine.test_outbound import SHOP, START, Harness

CUSTOMERS = ["254722000101", "254722000102", "254722000103"]


@contextmanager
def counted(db: Engine) -> Iterator[Counter[str]]:
    """Statements and commits on `db` while the block runs."""
    seen: Counter[str] = Counter()

    def statement(*args: Any) -> None:
        seen["statements"] += 1

    def commit(connection: Any) -> None:
        seen["commits"] += 1

    event.listen(db, "before_cursor_execute", statement)
    event.listen(db, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", statement)
        event.remove(db, "commit", commit)


def queue_texts(harness: Harness, per_customer: int) -> list[int]:
    conversations = [
        customer_writes_many(harness, wa_id, n) for n, wa_id in enumerate(CUSTOMERS, start=1)
    ]
    return [
        harness.text(conversation_id, f"Reply {n}")
        for n in range(per_customer)
        for conversation_id in conversations
    ]


def customer_writes_many(harness: Harness, wa_id: str, n: int) -> int:
    """The customer writes (opening the window); their conversation's id."""
    at = START + timedelta(seconds=n)
    document = message_webhook(
        SHOP,
        wa_id,
        "Mutua",
        {
            "from": wa_id,
            "id": f"wamid.in-{wa_id}",
            "type": "text",
            "timestamp": str(int(at.timestamp())),
            "text": {"body": "Niaje"},
        },
    )
    with workspace_session(harness.db, harness.workspace_id) as session:
        for item in parse_envelope(document):
            apply_and_step(session, item, at)
        session.commit()
        return int(
            session.scalars(
                select(Message.conversation_id).where(
                    Message.provider_message_id == f"wamid.in-{wa_id}"
                )
            ).one()
        )


@pytest.fixture()
def harness(db: Engine, workspace_id: int) -> Harness:
    return Harness(db, workspace_id)


def rows(harness: Harness) -> list[OutboxRow]:
    with workspace_session(harness.db, harness.workspace_id) as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_one_job_sends_a_batch_in_two_transactions_each_once(harness: Harness) -> None:
    ids = queue_texts(harness, per_customer=10)
    first = harness.row(ids[0]).id
    with counted(harness.db) as seen:
        dispatch_outbox_row(
            row_id=first, db=harness.db, clock=harness.clock, executors=harness.executors, batch=100
        )
    assert {row.state for row in rows(harness)} == {"done"}
    keys = [send.idempotency_key for send in harness.sender.sent]
    assert sorted(keys) == sorted(f"message:{i}" for i in ids)  # 30 sends, none twice
    assert {harness.message(i).delivery_state for i in ids} == {"accepted"}
    # One transaction claims and prepares the batch, one records it.
    assert seen["commits"] == 2
    # Amortised over the batch: far from the ~30 round trips a send took one by one.
    print(f"batch of {len(ids)}: {dict(seen)}")
    assert seen["statements"] / len(ids) <= 3, seen
    # The jobs enqueued for the other rows find nothing left to do.
    for row in rows(harness):
        dispatch_outbox_row(
            row_id=row.id,
            db=harness.db,
            clock=harness.clock,
            executors=harness.executors,
            batch=100,
        )
    assert len(harness.sender.sent) == len(ids)


def test_a_batch_mixes_kinds_and_settles_each_row_its_own_way(harness: Harness) -> None:
    ids = queue_texts(harness, per_customer=2)
    with workspace_session(harness.db, harness.workspace_id) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).first()
        assert inbound is not None
        queue_read_receipt(session, message=inbound, now=harness.clock.now())
        session.commit()
    executors = {
        **harness.executors,
        READ_KIND: make_read_executor(lambda ws, number: harness.sender),
    }
    harness.sender.fail_next(131026, times=1)  # permanent: that message fails
    harness.sender.fail_next(131000, http_status=500, times=1)  # retryable: back in the queue
    dispatch_outbox_row(
        row_id=harness.row(ids[0]).id,
        db=harness.db,
        clock=harness.clock,
        executors=executors,
        batch=100,
    )
    states = Counter(row.state for row in rows(harness))
    assert states == Counter({"done": 5, "failed": 1, "queued": 1}), states
    retried = next(row for row in rows(harness) if row.state == "queued")
    assert retried.attempts == 1 and retried.next_attempt_at is not None
    assert retried.next_attempt_at > harness.clock.now()
    assert Counter(harness.message(i).delivery_state for i in ids) == Counter(
        {"accepted": 4, "failed": 1, "queued": 1}
    )


def test_a_batch_over_the_numbers_rate_waits_its_turn(harness: Harness, tmp_path: Path) -> None:
    ids = queue_texts(harness, per_customer=4)  # 12 sends; the number allows 5 a second
    buckets = SqliteTokenBuckets(tmp_path / "rate.sqlite3")
    limited = RateLimitedSender(harness.sender, buckets, "shop", 5)
    executors = {SEND_KIND: make_send_executor(lambda ws, number: limited)}
    dispatch_outbox_row(
        row_id=harness.row(ids[0]).id,
        db=harness.db,
        clock=harness.clock,
        executors=executors,
        batch=100,
    )
    assert len(harness.sender.sent) == 5
    waiting = [row for row in rows(harness) if row.state == "queued"]
    assert len(waiting) == 7
    # Waiting is not a failed attempt, and the message is still plainly queued.
    assert all(row.attempts == 0 and row.next_attempt_at > harness.clock.now() for row in waiting)
    assert Counter(harness.message(i).delivery_state for i in ids)["queued"] == 7
    for _ in range(2):  # a bucket holds one second's worth: five, then the last two
        harness.clock.advance(timedelta(seconds=2))
        dispatch_outbox_row(
            row_id=waiting[0].id, db=harness.db, clock=harness.clock, executors=executors, batch=100
        )
    assert len(harness.sender.sent) == 12
    assert {row.state for row in rows(harness)} == {"done"}
    assert sorted(s.idempotency_key for s in harness.sender.sent) == sorted(
        f"message:{i}" for i in ids
    )


def test_a_throughput_429_backs_off_for_seconds_not_minutes(harness: Harness) -> None:
    [message_id] = queue_texts(harness, per_customer=1)[:1]
    harness.sender.fail_next(130429, http_status=429, times=3)
    dispatch_outbox_row(
        row_id=harness.row(message_id).id,
        db=harness.db,
        clock=harness.clock,
        executors=harness.executors,
        batch=100,
    )
    row = harness.row(message_id)
    assert row.state == "queued" and row.next_attempt_at is not None
    # Meta says retry in seconds: a pace to keep, not a failed attempt.
    assert row.next_attempt_at - harness.clock.now() <= timedelta(seconds=2)
    assert row.attempts == 0 and "130429" in (row.last_error or "")
    assert harness.message(message_id).failure_code == "130429"
