"""The sweeper: the database is the truth, huey only a trigger (DESIGN rule 6).

huey may lose a task (a worker killed mid-task, Redis restarted, an enqueue that
failed after the commit). Every few seconds the sweeper finds the rows whose
work is owed — never enqueued, enqueued long ago and not started, or started by
a worker whose lease ran out — and enqueues them again. Handlers claim rows with
leases, so a row enqueued twice still runs once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, or_, select, update

from engine.core.clock import Clock
from engine.core.queue import JobQueue
from engine.db import system_session
from engine.jobs.names import (
    CHECK_SLA_CLOCK,
    DISPATCH_OUTBOX_ROW,
    INBOUND_BATCH_SIZE,
    PROCESS_INBOUND_BATCH,
    QUEUE_BROADCAST,
    REPORT_TASK_DUE,
    RUN_SCHEDULED_ACTION,
)
from engine.jobs.periodic import PeriodicThread
from engine.jobs.timing import JobTimings, job_timings
from engine.models import (
    Broadcast,
    BroadcastState,
    InboundEvent,
    OutboxRow,
    ScheduledAction,
    SlaClock,
    Task,
)
from engine.models.states import DelayState, InboundState, OutboxState

logger = logging.getLogger(__name__)

REENQUEUE_AFTER = JobTimings().reenqueue_after  # the default; processes read job_timings()
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    inbound_events: int
    outbox_rows: int
    scheduled_actions: int = 0
    sla_clocks: int = 0
    tasks_due: int = 0
    broadcasts: int = 0


@dataclass(frozen=True)
class OwedWork:
    """One kind of row whose work the sweeper hands out: which rows, to which job."""

    report_field: str
    job: str
    argument: str
    model: Any
    owed: Callable[[datetime, datetime], ColumnElement[bool]]  # (now, stale) -> condition
    order: Callable[[], Any]
    batch: int = 0  # > 0: one job per this many rows of a workspace, given its workspace_id


def _lease_lapsed(model: Any, working: str, now: datetime) -> ColumnElement[bool]:
    return and_(model.state == working, model.lease_expires_at <= now)


def _not_recently_enqueued(model: Any, stale: datetime) -> ColumnElement[bool]:
    return or_(model.enqueued_at.is_(None), model.enqueued_at < stale)


OWED: tuple[OwedWork, ...] = (
    OwedWork(
        "inbound_events",
        PROCESS_INBOUND_BATCH,
        "workspace_id",
        InboundEvent,
        lambda now, stale: or_(
            and_(
                InboundEvent.state == InboundState.RECEIVED,
                _not_recently_enqueued(InboundEvent, stale),
                or_(InboundEvent.lease_expires_at.is_(None), InboundEvent.lease_expires_at <= now),
            ),
            _lease_lapsed(InboundEvent, "processing", now),
        ),
        lambda: InboundEvent.id,
        batch=INBOUND_BATCH_SIZE,
    ),
    OwedWork(
        "outbox_rows",
        DISPATCH_OUTBOX_ROW,
        "row_id",
        OutboxRow,
        lambda now, stale: or_(
            and_(
                OutboxRow.state == OutboxState.QUEUED,
                or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now),
                _not_recently_enqueued(OutboxRow, stale),
            ),
            _lease_lapsed(OutboxRow, "sending", now),
        ),
        lambda: OutboxRow.id,
    ),
    OwedWork(
        "scheduled_actions",
        RUN_SCHEDULED_ACTION,
        "action_id",
        ScheduledAction,
        lambda now, stale: or_(
            and_(
                ScheduledAction.state == DelayState.PENDING,
                ScheduledAction.due_at <= now,
                _not_recently_enqueued(ScheduledAction, stale),
            ),
            _lease_lapsed(ScheduledAction, "running", now),
        ),
        lambda: ScheduledAction.due_at,
    ),
    OwedWork(
        "sla_clocks",
        CHECK_SLA_CLOCK,
        "clock_id",
        SlaClock,
        lambda now, stale: and_(
            SlaClock.stopped_at.is_(None),
            # A paused clock is never handed out; a snooze's pause ends by itself at its time.
            or_(SlaClock.paused_at.is_(None), SlaClock.paused_until <= now),
            or_(
                and_(SlaClock.warned_at.is_(None), SlaClock.warn_at <= now),
                and_(SlaClock.breached_at.is_(None), SlaClock.due_at <= now),
            ),
            _not_recently_enqueued(SlaClock, stale),
        ),
        lambda: SlaClock.due_at,
    ),
    OwedWork(
        "tasks_due",
        REPORT_TASK_DUE,
        "task_id",
        Task,
        lambda now, stale: and_(
            Task.done_at.is_(None),
            Task.due_reported_at.is_(None),
            Task.due_at <= now,
            _not_recently_enqueued(Task, stale),
        ),
        lambda: Task.due_at,
    ),
    OwedWork(
        "broadcasts",
        QUEUE_BROADCAST,
        "broadcast_id",
        Broadcast,
        lambda now, stale: or_(
            and_(
                Broadcast.state == BroadcastState.SCHEDULED,
                Broadcast.send_at <= now,
                _not_recently_enqueued(Broadcast, stale),
            ),
            _lease_lapsed(Broadcast, BroadcastState.QUEUEING, now),
        ),
        lambda: Broadcast.send_at,
    ),
)


def sweep_once(
    db: Engine, queue: JobQueue, now: datetime, reenqueue_after: timedelta | None = None
) -> SweepReport:
    """Enqueue every row whose work is owed (OWED); say how many of each kind."""
    stale = now - (job_timings().reenqueue_after if reenqueue_after is None else reenqueue_after)
    found: dict[OwedWork, list[int]] = {}
    # (kind, job, its arguments, the rows it covers: what to unmark if it is not sent)
    jobs: list[tuple[OwedWork, str, dict[str, int], list[int]]] = []
    with system_session(db) as session:
        for kind in OWED:
            rows = session.execute(
                select(kind.model.id, kind.model.workspace_id)
                .where(kind.owed(now, stale))
                .order_by(kind.order())
                .limit(BATCH)
            ).all()
            ids = [row_id for row_id, _ in rows]
            if kind.batch:
                # Inbound events go to the batch job, which claims a workspace's ready
                # events itself: one job for each `batch` of them is enough.
                per_workspace: dict[int, list[int]] = {}
                for row_id, workspace_id in rows:
                    per_workspace.setdefault(workspace_id, []).append(row_id)
                jobs += [
                    (kind, kind.job, {kind.argument: workspace_id}, covered)
                    for workspace_id, covered in per_workspace.items()
                    for _ in range(-(-len(covered) // kind.batch))
                ]
            else:
                jobs += [(kind, kind.job, {kind.argument: row_id}, [row_id]) for row_id in ids]
            # Mark before enqueueing: if the enqueue is lost, the mark only delays the
            # next try by the re-enqueue delay; it never hides the row.
            if ids:
                # Rows another transaction holds right now (a worker claiming them, the
                # sweeper of another worker) are skipped, not waited for: waiting on
                # them while holding others is how two sweeps deadlocked. A skipped
                # row that is still owed is found by the next sweep.
                free = (
                    select(kind.model.id)
                    .where(kind.model.id.in_(ids))
                    .order_by(kind.model.id)
                    .with_for_update(skip_locked=True)
                )
                ids = list(
                    session.scalars(
                        update(kind.model)
                        .where(kind.model.id.in_(free.scalar_subquery()))
                        .values(enqueued_at=now)
                        .returning(kind.model.id)
                        .execution_options(synchronize_session=False)
                    )
                )
            found[kind] = ids
        session.commit()
    for position, (_, job, arguments, _) in enumerate(jobs):
        try:
            queue.enqueue(job, **arguments)
        except Exception:
            # The queue is down: take the marks off what was not handed out, so the
            # next sweep (seconds away) tries again instead of the re-enqueue delay.
            _unmark(db, [(kind, covered) for kind, _, _, covered in jobs[position:]], now)
            raise
    return SweepReport(**{kind.report_field: len(ids) for kind, ids in found.items()})


def _unmark(db: Engine, unsent: list[tuple[OwedWork, list[int]]], marked_at: datetime) -> None:
    try:
        with system_session(db) as session:
            for kind, ids in unsent:
                if ids:
                    session.execute(
                        update(kind.model)
                        .where(kind.model.id.in_(ids), kind.model.enqueued_at == marked_at)
                        .values(enqueued_at=None)
                        .execution_options(synchronize_session=False)
                    )
            session.commit()
    except Exception:  # the database is down too: the re-enqueue delay still finds them
        logger.warning("could not take the enqueue marks off %d kinds of rows", len(unsent))


def queue_incarnation(queue: JobQueue) -> str | None:
    """Which run of the queue's storage this is (Redis's run_id), None when unknown.
    A new one means the queue restarted and may have lost every job it held."""
    probe = getattr(queue, "incarnation", None)
    if probe is None:
        return None
    try:
        found = probe()
    except Exception:
        return None
    return str(found) if found is not None else None


def sweeper_thread(
    db: Engine, queue: JobQueue, clock: Clock, interval: timedelta | None = None
) -> PeriodicThread:
    """The sweep every `interval` (job_timings() by default) in a thread of each worker.

    No lock between workers, on purpose: a lock held by a worker that is killed
    mid-sweep would stop every sweeper for good (huey's task locks never expire).
    Two sweeps at once only enqueue a row twice, and its job claims it once.
    """

    seen: dict[str, str | bool | None] = {"incarnation": None, "failed": False}

    def step() -> None:
        # After a failed sweep (the database or the queue was down) or a restart of the
        # queue's storage (Redis keeps no jobs across one), jobs handed out meanwhile
        # may be lost: hand out every owed row now, not after the re-enqueue delay.
        # A row enqueued twice still runs once (its job claims it).
        incarnation = queue_incarnation(queue)
        restarted = incarnation is not None and seen["incarnation"] not in (None, incarnation)
        fresh = bool(seen["failed"]) or restarted
        try:
            report = sweep_once(db, queue, clock.now(), timedelta(0) if fresh else None)
        except Exception:
            seen["failed"] = True
            raise
        seen["failed"] = False
        if incarnation is not None:
            seen["incarnation"] = incarnation
        if any(vars(report).values()):
            logger.info("sweeper enqueued %s%s", vars(report), " (after an outage)" * fresh)

    return PeriodicThread("kazi-sweeper", step, interval or job_timings().sweep_interval)
