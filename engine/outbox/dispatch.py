"""The job that carries out one outbox row (a send, a call, a notification).

Like inbound processing it claims the row with a lease, runs the executor for
the row's kind, and records the outcome on the row: done, retried with backoff
after a retryable failure, or failed for staff to see. Executors receive the
row's idempotency key so a retry never does the thing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from engine.core.clock import Clock
from engine.db import system_session, workspace_session
from engine.jobs.leases import claim, retry_delay
from engine.models import OutboxRow

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
AUTOMATIC_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CEILING = timedelta(minutes=15)


@dataclass(frozen=True)
class ExecutionFailed(Exception):
    """An executor's verdict that the effect did not happen."""

    reason: str
    retryable: bool

    def __str__(self) -> str:
        return self.reason


Executor = Callable[..., None]
"""Called as executor(session, row, now); raises ExecutionFailed when it did not happen."""


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
            lease=LEASE,
            ready_state="queued",
            working_state="sending",
        )
        workspace_id = session.scalar(select(OutboxRow.workspace_id).where(OutboxRow.id == row_id))
        session.commit()
    if not won or workspace_id is None:
        return
    try:
        with workspace_session(db, workspace_id) as session:
            row = session.get(OutboxRow, row_id)
            if row is None:
                return
            executor = executors.get(row.kind)
            if executor is None:
                raise ExecutionFailed(f"no executor for outbox kind {row.kind!r}", retryable=False)
            executor(session, row, now)
            row.state = "done"
            row.lease_expires_at = None
            row.last_error = None
            row.updated_at = now
            session.commit()
    except ExecutionFailed as failure:
        _record_failure(db, workspace_id, row_id, failure.reason, failure.retryable, now)
    except Exception as error:  # the job boundary: unknown errors are retried, then shown
        logger.exception("outbox row %s failed", row_id, extra={"outbox_row_id": row_id})
        _record_failure(db, workspace_id, row_id, f"{type(error).__name__}: {error}", True, now)


def _record_failure(
    db: Engine, workspace_id: int, row_id: int, reason: str, retryable: bool, now: datetime
) -> None:
    with workspace_session(db, workspace_id) as session:
        row = session.get(OutboxRow, row_id)
        if row is None:
            return
        row.last_error = reason[:2000]
        row.updated_at = now
        row.lease_expires_at = None
        if retryable and row.attempts < AUTOMATIC_ATTEMPTS:
            row.state = "queued"
            row.next_attempt_at = now + retry_delay(row.attempts, RETRY_BASE, RETRY_CEILING)
        else:
            row.state = "failed"
        session.commit()
