"""The job that carries out one outbox row (a send, a call, a notification).

Like inbound processing it claims the row with a lease, runs the executor for
the row's kind, and records the outcome on the row: done, retried with backoff
after a retryable failure, or failed for staff to see. Executors receive the
row's idempotency key so a retry never does the thing twice, and open their own
short transactions so no database lock is held while they wait on the network.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from engine.core.clock import Clock
from engine.db import system_session, workspace_session
from engine.jobs.leases import claim, retry_delay
from engine.jobs.timing import job_timings
from engine.models import OutboxRow
from engine.models.states import OutboxState
from engine.observability import OUTBOX_SENDS, add_log_ids

logger = logging.getLogger(__name__)

AUTOMATIC_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CEILING = timedelta(minutes=15)


class ExecutionFailed(Exception):
    """An executor's verdict that the effect did not happen (or may not have)."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: timedelta | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Deferred(Exception):
    """An executor's verdict that the effect must wait (a rate limit), not that it failed:
    the row goes back to the queue for `wait` and the attempt does not count."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"deferred for {wait.total_seconds():.3f}s")
        self.wait = wait


@dataclass(frozen=True)
class OutboxWork:
    db: Engine
    workspace_id: int
    row_id: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    attempt: int
    now: datetime


Executor = Callable[[OutboxWork], None]
"""Carries out one row; raises ExecutionFailed when it did not happen."""


def dispatch_outbox_row(
    *,
    row_id: int,
    db: Engine,
    clock: Clock,
    executors: Mapping[str, Executor],
) -> None:
    now = clock.now()
    with system_session(db) as session:
        won = claim(
            session,
            OutboxRow,
            row_id,
            now=now,
            lease=job_timings().lease,
            ready_state="queued",
            working_state="sending",
        )
        row = session.get(OutboxRow, row_id) if won else None
        work = (
            OutboxWork(
                db=db,
                workspace_id=row.workspace_id,
                row_id=row.id,
                kind=row.kind,
                payload=dict(row.payload),
                idempotency_key=row.idempotency_key,
                attempt=row.attempts,
                now=now,
            )
            if row is not None
            else None
        )
        session.commit()
    if work is None:
        return
    add_log_ids(workspace_id=work.workspace_id)
    try:
        executor = executors.get(work.kind)
        if executor is None:
            raise ExecutionFailed(f"no executor for outbox kind {work.kind!r}", retryable=False)
        executor(work)
    except Deferred as deferred:
        _defer(work, deferred.wait)
        OUTBOX_SENDS.labels(work.kind, "deferred").inc()
    except ExecutionFailed as failure:
        outcome = _record(work, failure.reason, failure.retryable, failure.retry_after)
        OUTBOX_SENDS.labels(work.kind, outcome).inc()
    except Exception as error:  # the job boundary: unknown errors are retried, then shown
        logger.exception("outbox row %s failed", row_id, extra={"outbox_row_id": row_id})
        outcome = _record(work, f"{type(error).__name__}: {error}", True, None)
        OUTBOX_SENDS.labels(work.kind, outcome).inc()
    else:
        _record(work, None, False, None)
        OUTBOX_SENDS.labels(work.kind, "done").inc()


def _record(
    work: OutboxWork, reason: str | None, retryable: bool, retry_after: timedelta | None
) -> str:
    """Records the outcome on the row; says which: done, retry or failed."""
    with workspace_session(work.db, work.workspace_id) as session:
        row = session.get(OutboxRow, work.row_id)
        if row is None:
            return "gone"
        row.updated_at = work.now
        row.lease_expires_at = None
        row.last_error = reason[:2000] if reason else None
        if reason is None:
            row.state = OutboxState.DONE
        elif retryable and row.attempts < AUTOMATIC_ATTEMPTS:
            # Jitter spreads retries out, so a provider outage does not end in a stampede.
            backoff = retry_delay(row.attempts, RETRY_BASE, RETRY_CEILING)
            backoff *= 1 + random.random() / 4
            row.state = OutboxState.QUEUED
            row.next_attempt_at = work.now + max(backoff, retry_after or timedelta(0))
            row.enqueued_at = None
        else:
            row.state = OutboxState.FAILED
        outcome = "retry" if row.state == OutboxState.QUEUED else str(row.state)
        session.commit()
        return outcome


def _defer(work: OutboxWork, wait: timedelta) -> None:
    with workspace_session(work.db, work.workspace_id) as session:
        row = session.get(OutboxRow, work.row_id)
        if row is None:
            return
        row.state = OutboxState.QUEUED
        row.attempts = max(0, row.attempts - 1)  # waiting its turn is not a failed attempt
        row.lease_expires_at = None
        row.next_attempt_at = work.now + wait
        row.enqueued_at = None  # the next sweep after next_attempt_at hands it out again
        session.commit()


def retry_outbox_row(db: Engine, workspace_id: int, row_id: int, now: datetime) -> bool:
    """Staff asked to try a failed row again."""
    with workspace_session(db, workspace_id) as session:
        row = session.get(OutboxRow, row_id)
        if row is None or row.state != OutboxState.FAILED:
            return False
        row.state, row.attempts, row.next_attempt_at = "queued", 0, now
        row.enqueued_at = None
        row.last_error = None
        session.commit()
        return True
