"""DESIGN rule 6: the database is the truth; the sweeper finds owed work again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from engine.core.clock import FrozenClock
from engine.core.queue import RecordingJobQueue
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import process_inbound_event, retry_failed_event
from engine.jobs.names import DISPATCH_OUTBOX_ROW, PROCESS_INBOUND_BATCH
from engine.jobs.sweeper import REENQUEUE_AFTER, sweep_once, sweeper_thread
from engine.models import InboundEvent, OutboxRow

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def store(db: Engine, workspace_id: int, key: str, now: datetime = START) -> int:
    with workspace_session(db, workspace_id) as session:
        stored = store_inbound(
            session,
            workspace_id=workspace_id,
            provider="test",
            items=[RawItem(dedup_key=key, payload={"key": key})],
            signature_ok=True,
            now=now,
        )
        session.commit()
    return stored.new_event_ids[0]


def swept_ids(db: Engine, now: datetime, workspace_id: int) -> list[int]:
    """This workspace's events the sweep at `now` handed out: it marks each one it finds
    and enqueues the batch job for their workspace, which claims them."""
    queue = RecordingJobQueue()
    sweep_once(db, queue, now)
    with workspace_session(db, workspace_id) as session:
        marked = list(
            session.scalars(
                select(InboundEvent.id)
                .where(InboundEvent.enqueued_at == now)
                .order_by(InboundEvent.id)
            )
        )
    if marked:
        assert {"workspace_id": workspace_id} in queue.jobs(PROCESS_INBOUND_BATCH)
    return marked


def test_a_duplicate_delivery_is_stored_once(db: Engine, workspace_id: int) -> None:
    item = RawItem(dedup_key="wamid.1:message", payload={"n": 1})
    with workspace_session(db, workspace_id) as session:
        first = store_inbound(
            session,
            workspace_id=workspace_id,
            provider="test",
            items=[item, item],
            signature_ok=True,
            now=START,
        )
        second = store_inbound(
            session,
            workspace_id=workspace_id,
            provider="test",
            items=[item],
            signature_ok=True,
            now=START,
        )
        session.commit()
    assert len(first.new_event_ids) == 1 and first.duplicates == 1
    assert second.new_event_ids == [] and second.duplicates == 1


def test_a_flagged_item_is_kept_but_never_enqueued(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        stored = store_inbound(
            session,
            workspace_id=workspace_id,
            provider="test",
            items=[RawItem(dedup_key="bad", payload={"raw": "?"}, flag="unknown type 'hologram'")],
            signature_ok=True,
            now=START,
        )
        session.commit()
        event = session.scalars(select(InboundEvent).where(InboundEvent.dedup_key == "bad")).one()
    assert stored.flagged == 1 and stored.new_event_ids == []
    assert (event.state, event.last_error) == ("flagged", "unknown type 'hologram'")
    assert swept_ids(db, START + timedelta(hours=1), workspace_id) == []


def test_an_event_whose_enqueue_was_lost_is_enqueued_again(db: Engine, workspace_id: int) -> None:
    event_id = store(db, workspace_id, "lost-enqueue")
    # Just stored and enqueued: the sweeper leaves it to the job already on its way.
    assert swept_ids(db, START + timedelta(seconds=5), workspace_id) == []
    later = START + REENQUEUE_AFTER + timedelta(seconds=1)
    assert swept_ids(db, later, workspace_id) == [event_id]
    # Once re-enqueued it is not handed out again on every sweep.
    assert swept_ids(db, later + timedelta(seconds=2), workspace_id) == []


def test_an_event_whose_lease_expired_is_enqueued_again(db: Engine, workspace_id: int) -> None:
    event_id = store(db, workspace_id, "worker-died")
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        # A worker claimed it and was killed: the lease runs to 09:02.
        event.state = "processing"
        event.lease_expires_at = START + timedelta(minutes=2)
        session.commit()
    assert swept_ids(db, START + timedelta(minutes=1), workspace_id) == []
    assert swept_ids(db, START + timedelta(minutes=3), workspace_id) == [event_id]


def test_processing_runs_the_provider_handler_once(db: Engine, workspace_id: int) -> None:
    event_id = store(db, workspace_id, "handled")
    calls: list[int] = []

    def handler(session: object, event: InboundEvent, now: datetime) -> None:
        calls.append(event.id)

    clock = FrozenClock(START)
    for _ in range(2):  # a redelivered job finds the event already processed
        process_inbound_event(event_id=event_id, db=db, clock=clock, handlers={"test": handler})
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        assert (event.state, event.attempts, event.processed_at) == ("processed", 1, START)
    assert calls == [event_id]


def test_a_failing_event_backs_off_then_fails_visibly_and_can_be_retried(
    db: Engine, workspace_id: int
) -> None:
    event_id = store(db, workspace_id, "broken")

    def handler(session: object, event: InboundEvent, now: datetime) -> None:
        raise ValueError("contact has no address")

    clock = FrozenClock(START)
    process_inbound_event(event_id=event_id, db=db, clock=clock, handlers={"test": handler})
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        assert event.state == "received"
        assert event.last_error == "ValueError: contact has no address"
        retry_at = event.lease_expires_at
    assert retry_at is not None and retry_at > START
    # Not handed out before the backoff ends, then handed out.
    assert swept_ids(db, START + timedelta(seconds=1), workspace_id) == []
    assert swept_ids(db, retry_at + timedelta(seconds=1), workspace_id) == [event_id]

    for _ in range(10):
        clock.advance(timedelta(hours=1))
        process_inbound_event(event_id=event_id, db=db, clock=clock, handlers={"test": handler})
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        assert event.state == "failed"
    assert retry_failed_event(db, workspace_id, event_id)
    assert swept_ids(db, clock.now(), workspace_id) == [event_id]


def test_an_event_of_an_unknown_provider_fails_at_once(db: Engine, workspace_id: int) -> None:
    event_id = store(db, workspace_id, "nobody-handles")
    process_inbound_event(event_id=event_id, db=db, clock=FrozenClock(START), handlers={})
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        assert event.state == "failed"
        assert "no handler for provider 'test'" in (event.last_error or "")


def test_queued_outbox_rows_are_swept_after_their_next_attempt(
    db: Engine, workspace_id: int
) -> None:
    with workspace_session(db, workspace_id) as session:
        row = OutboxRow(
            kind="whatsapp.send",
            payload={"text": "hello"},
            idempotency_key="rule:1:event:1",
            next_attempt_at=START + timedelta(seconds=30),
        )
        session.add(row)
        session.commit()
        row_id = row.id

    def swept_rows(now: datetime) -> list[int]:
        queue = RecordingJobQueue()
        sweep_once(db, queue, now)
        return [int(a["row_id"]) for a in queue.jobs(DISPATCH_OUTBOX_ROW) if a["row_id"] == row_id]  # type: ignore[arg-type]

    assert swept_rows(START) == []
    assert swept_rows(START + timedelta(seconds=31)) == [row_id]
    assert swept_rows(START + timedelta(seconds=32)) == []


class QueueDown:
    """Redis stopped: every enqueue fails."""

    def enqueue(self, job: str, **arguments: object) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_rows_a_failed_sweep_could_not_hand_out_are_found_by_the_next_one(
    db: Engine, workspace_id: int
) -> None:
    event_id = store(db, workspace_id, "down:1")
    later = START + REENQUEUE_AFTER + timedelta(seconds=1)
    with pytest.raises(ConnectionError):
        sweep_once(db, QueueDown(), later)  # type: ignore[arg-type]
    # Seconds later, Redis is back: not a re-enqueue delay later.
    assert event_id in swept_ids(db, later + timedelta(seconds=2), workspace_id)


class RestartingQueue(RecordingJobQueue):
    run_id = "first"

    def incarnation(self) -> str:
        return self.run_id


def test_after_the_queue_restarts_every_owed_row_is_handed_out_again(
    db: Engine, workspace_id: int
) -> None:
    """Redis keeps no jobs across a restart: what it held is owed again at once."""
    store(db, workspace_id, "restart:1")  # enqueued now (its mark says so)
    queue = RestartingQueue()
    clock = FrozenClock(START + timedelta(seconds=5))
    step = sweeper_thread(db, queue, clock)._step

    def handed_out() -> bool:
        return {"workspace_id": workspace_id} in queue.jobs(PROCESS_INBOUND_BATCH)

    step()
    assert not handed_out()  # enqueued 5 s ago: still the queue's to run
    queue.run_id = "second"
    step()
    assert handed_out()


def test_after_a_failed_sweep_every_owed_row_is_handed_out_again(
    db: Engine, workspace_id: int
) -> None:
    """Jobs handed out while the database or Redis was down may have failed and gone."""
    store(db, workspace_id, "outage:1")
    queue = RecordingJobQueue()
    down = {"now": True}

    class Flaky:
        def enqueue(self, job: str, **arguments: object) -> None:
            if down["now"]:
                raise ConnectionError("Redis is restarting")
            queue.enqueue(job, **arguments)  # type: ignore[arg-type]

    store(db, workspace_id, "outage:never-enqueued", START - REENQUEUE_AFTER * 2)
    step = sweeper_thread(db, Flaky(), FrozenClock(START + timedelta(seconds=5)))._step  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        step()
    down["now"] = False
    step()
    assert {"workspace_id": workspace_id} in queue.jobs(PROCESS_INBOUND_BATCH)
