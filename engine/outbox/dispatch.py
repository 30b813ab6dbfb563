"""The job that carries out outbox rows (sends, calls, notifications), many at a time.

A worker claims a batch of ready rows of one workspace in one transaction, with a
lease each, and lets each kind's executor prepare them in that same transaction (a
send re-checks its window and marks its message `sending` there). The network calls
then run concurrently in a thread pool, holding no database lock, and one more
transaction records every outcome: done, retried with backoff after a retryable
failure, deferred by a rate limit, or failed for staff to see. Executors receive each
row's idempotency key so a retry never does the thing twice.

An executor is a plain callable (one row, its own short transactions) or, for the
hot path, a `BatchExecutor` that prepares and records whole batches (engine.whatsapp.
outbound's sends): two transactions for a batch instead of four for every row.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session

from engine.core.clock import Clock
from engine.db import system_session, workspace_session
from engine.jobs.leases import retry_delay
from engine.jobs.timing import job_timings
from engine.models import OutboxRow
from engine.models.states import OutboxState
from engine.observability import OUTBOX_SENDS, add_log_ids

logger = logging.getLogger(__name__)

AUTOMATIC_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CEILING = timedelta(minutes=15)
BATCH = 100  # rows one job claims at most
DRAIN_SECONDS = 5.0  # how long one job goes on claiming batches
SHORT_WAIT = timedelta(seconds=1)  # a rate limit's wait a job sleeps through
CONCURRENCY = 32  # network calls in flight at once in one process


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

    def __init__(self, wait: timedelta, reason: str | None = None) -> None:
        super().__init__(f"deferred for {wait.total_seconds():.3f}s")
        self.wait = wait
        self.reason = reason  # what the provider said, when it was the one to refuse


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

Call = Callable[[], object]
"""A prepared network call: no database work, returns what the provider said."""

Verdict = BaseException | None
"""How a row ended: None when done, else Deferred, ExecutionFailed or any error."""


@runtime_checkable
class BatchExecutor(Protocol):
    """An executor that also handles whole batches inside the dispatcher's transactions."""

    def __call__(self, work: OutboxWork) -> None: ...

    def prepare(self, session: Session, works: Sequence[OutboxWork]) -> dict[int, Call | Verdict]:
        """In the claiming transaction: for each row id, the call to make, or the verdict
        when there is none to make (None: nothing left to do). A row left out of the
        answer is run by `__call__` instead."""
        ...

    def finish(
        self, session: Session, results: Sequence[tuple[OutboxWork, object]]
    ) -> dict[int, Verdict]:
        """In the recording transaction: record each call's result; each row's verdict."""
        ...


_pool: ThreadPoolExecutor | None = None


def _calls_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="kazi-outbox")
    return _pool


def dispatch_outbox_row(
    *,
    row_id: int,
    db: Engine,
    clock: Clock,
    executors: Mapping[str, Executor],
    batch: int = 1,
) -> None:
    """Carry out `row_id` (when it is still owed) and up to `batch - 1` other ready rows
    of its workspace. The queue's job passes a large batch; a single row is the default."""
    with system_session(db) as session:
        workspace_id = session.scalar(select(OutboxRow.workspace_id).where(OutboxRow.id == row_id))
        session.rollback()
    if workspace_id is None:
        return
    # A job keeps draining its workspace's ready rows for a few seconds: while batches
    # come back full, and while a rate limit asks for a short wait (the job paces the
    # number instead of leaving the rest to the next sweep).
    deadline = time.monotonic() + DRAIN_SECONDS
    first: int | None = row_id
    while True:
        report = dispatch_outbox_batch(
            workspace_id=workspace_id,
            first=first,
            db=db,
            clock=clock,
            executors=executors,
            limit=batch,
        )
        first = None
        if batch <= 1 or time.monotonic() >= deadline or report.claimed == 0:
            return
        if report.claimed >= batch:
            continue
        if report.soonest_wait is None or report.soonest_wait > SHORT_WAIT:
            return
        time.sleep(report.soonest_wait.total_seconds())


@dataclass(frozen=True)
class BatchReport:
    claimed: int
    soonest_wait: timedelta | None = None  # the shortest deferral a rate limit asked for


def dispatch_outbox_batch(
    *,
    workspace_id: int,
    db: Engine,
    clock: Clock,
    executors: Mapping[str, Executor],
    first: int | None = None,
    limit: int = BATCH,
) -> BatchReport:
    """Claim up to `limit` ready rows of a workspace (`first` before any other), carry
    them out, record the outcomes. Says how many rows were claimed, and the shortest
    wait a rate limit deferred one of them for."""
    now = clock.now()
    add_log_ids(workspace_id=workspace_id)
    verdicts: dict[int, Verdict] = {}
    calls: dict[int, Call] = {}
    plain: list[OutboxWork] = []
    with workspace_session(db, workspace_id) as session:
        works = _claim_batch(session, workspace_id, first, now, limit, db)
        by_id = {work.row_id: work for work in works}
        for kind in {work.kind for work in works}:
            of_kind = [work for work in works if work.kind == kind]
            executor = executors.get(kind)
            if executor is None:
                for work in of_kind:
                    verdicts[work.row_id] = ExecutionFailed(
                        f"no executor for outbox kind {kind!r}", retryable=False
                    )
            elif isinstance(executor, BatchExecutor):
                answers = executor.prepare(session, of_kind)
                for work in of_kind:
                    if work.row_id not in answers:
                        plain.append(work)
                    elif callable(answers[work.row_id]):
                        calls[work.row_id] = answers[work.row_id]  # type: ignore[assignment]
                    else:
                        verdicts[work.row_id] = answers[work.row_id]  # type: ignore[assignment]
            else:
                plain.extend(of_kind)
        # Rows settled while preparing are recorded with the claim: one transaction.
        _apply(session, workspace_id, {i: verdicts[i] for i in verdicts}, by_id, now)
        session.commit()
    if not calls and not plain:
        return _report(works, verdicts)
    pool = _calls_pool()
    call_futures = {row_id: pool.submit(_guarded, call) for row_id, call in calls.items()}
    plain_futures = {
        work.row_id: pool.submit(_run_plain, executors[work.kind], work) for work in plain
    }
    results = [(by_id[row_id], future.result()) for row_id, future in call_futures.items()]
    finished: dict[int, Verdict] = {i: future.result() for i, future in plain_futures.items()}
    with workspace_session(db, workspace_id) as session:
        for kind in {work.kind for work, _ in results}:
            batch_executor = executors[kind]
            assert isinstance(batch_executor, BatchExecutor)
            answered: list[tuple[OutboxWork, object]] = []
            for work, result in results:
                if work.kind != kind:
                    continue
                if isinstance(result, BaseException):
                    finished[work.row_id] = result  # the call itself raised
                else:
                    answered.append((work, result))
            finished.update(batch_executor.finish(session, answered))
        _apply(session, workspace_id, finished, by_id, now)
        session.commit()
    return _report(works, {**verdicts, **finished})


def _report(works: Sequence[OutboxWork], verdicts: Mapping[int, Verdict]) -> BatchReport:
    waits = [v.wait for v in verdicts.values() if isinstance(v, Deferred)]
    return BatchReport(len(works), min(waits) if waits else None)


def _guarded(call: Call) -> object:
    try:
        return call()
    except Exception as error:  # recorded as the row's verdict, never lost in the pool
        return error


def _run_plain(executor: Executor, work: OutboxWork) -> Verdict:
    try:
        executor(work)
    except Exception as error:
        return error
    return None


def _claim_batch(
    session: Session,
    workspace_id: int,
    first: int | None,
    now: datetime,
    limit: int,
    db: Engine,
) -> list[OutboxWork]:
    """One UPDATE … RETURNING: ready rows (queued and due, lease free) and rows whose
    lease lapsed mid-work move to `sending` with a fresh lease and one more attempt.
    On PostgreSQL, rows another worker is claiming right now are skipped, not waited for."""
    lease_is_free = or_(OutboxRow.lease_expires_at.is_(None), OutboxRow.lease_expires_at <= now)
    claimable = or_(
        and_(OutboxRow.state == OutboxState.QUEUED, lease_is_free),
        and_(OutboxRow.state == OutboxState.SENDING, OutboxRow.lease_expires_at <= now),
    )
    due = or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now)
    wanted = claimable if first is None else and_(claimable, OutboxRow.id == first)
    if limit > 1:
        wanted = or_(wanted, and_(claimable, due))
    chosen = (
        select(OutboxRow.id)
        .where(OutboxRow.workspace_id == workspace_id, wanted)
        .order_by((OutboxRow.id == (first or 0)).desc(), OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(chosen.scalar_subquery()), claimable)
        .values(
            state=OutboxState.SENDING,
            lease_expires_at=now + job_timings().lease,
            attempts=OutboxRow.attempts + 1,
        )
        .returning(
            OutboxRow.id,
            OutboxRow.kind,
            OutboxRow.payload,
            OutboxRow.idempotency_key,
            OutboxRow.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(
        (
            OutboxWork(
                db=db,
                workspace_id=workspace_id,
                row_id=row.id,
                kind=row.kind,
                payload=dict(row.payload),
                idempotency_key=row.idempotency_key,
                attempt=row.attempts,
                now=now,
            )
            for row in rows
        ),
        key=lambda work: work.row_id,
    )


def _apply(
    session: Session,
    workspace_id: int,
    verdicts: Mapping[int, Verdict],
    works: Mapping[int, OutboxWork],
    now: datetime,
) -> None:
    """Write each row's verdict; rows done together share one UPDATE."""
    done = [row_id for row_id, verdict in verdicts.items() if verdict is None]
    if done:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.workspace_id == workspace_id, OutboxRow.id.in_(done))
            .values(state=OutboxState.DONE, lease_expires_at=None, last_error=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        for row_id in done:
            OUTBOX_SENDS.labels(works[row_id].kind, "done").inc()
    for row_id, verdict in verdicts.items():
        if verdict is None:
            continue
        work = works[row_id]
        values: dict[str, Any] = {"lease_expires_at": None, "updated_at": now}
        if isinstance(verdict, Deferred):
            # Waiting its turn is not a failed attempt; the next sweep after
            # next_attempt_at hands it out again.
            values |= {
                "state": OutboxState.QUEUED,
                "attempts": max(0, work.attempt - 1),
                "next_attempt_at": now + verdict.wait,
                "enqueued_at": None,
            }
            if verdict.reason:
                values["last_error"] = verdict.reason[:2000]
            outcome = "deferred"
        else:
            if isinstance(verdict, ExecutionFailed):
                reason, retryable, retry_after = (
                    verdict.reason,
                    verdict.retryable,
                    verdict.retry_after,
                )
            else:  # the job boundary: unknown errors are retried, then shown
                logger.error(
                    "outbox row %s failed",
                    row_id,
                    exc_info=verdict,
                    extra={"outbox_row_id": row_id},
                )
                reason, retryable, retry_after = f"{type(verdict).__name__}: {verdict}", True, None
            values["last_error"] = reason[:2000]
            if retryable and work.attempt < AUTOMATIC_ATTEMPTS:
                # Jitter spreads retries out, so a provider outage does not end in a stampede.
                backoff = retry_delay(work.attempt, RETRY_BASE, RETRY_CEILING)
                backoff *= 1 + random.random() / 4
                values |= {
                    "state": OutboxState.QUEUED,
                    "next_attempt_at": now + max(backoff, retry_after or timedelta(0)),
                    "enqueued_at": None,
                }
                outcome = "retry"
            else:
                values["state"] = OutboxState.FAILED
                outcome = str(OutboxState.FAILED)
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.workspace_id == workspace_id, OutboxRow.id == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        OUTBOX_SENDS.labels(work.kind, outcome).inc()


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
