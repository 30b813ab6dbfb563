"""The sweeper: the database is the truth, huey only a trigger (DESIGN rule 6).

huey may lose a task (a worker killed mid-task, Redis restarted, an enqueue that
failed after the commit). Every few seconds the sweeper finds the rows whose
work is owed — never enqueued, enqueued long ago and not started, or started by
a worker whose lease ran out — and enqueues them again. Handlers claim rows with
leases, so a row enqueued twice still runs once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from huey import Huey
from huey.exceptions import TaskLockedException
from sqlalchemy import Engine, and_, or_, select, update

from engine.core.clock import Clock
from engine.core.queue import JobQueue
from engine.db import system_session
from engine.jobs.names import (
    CHECK_SLA_CLOCK,
    DISPATCH_OUTBOX_ROW,
    PROCESS_INBOUND_EVENT,
    RUN_SCHEDULED_ACTION,
)
from engine.jobs.timing import JobTimings, job_timings
from engine.models import InboundEvent, OutboxRow, ScheduledAction, SlaClock

logger = logging.getLogger(__name__)

REENQUEUE_AFTER = JobTimings().reenqueue_after  # the default; processes read job_timings()
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    inbound_events: int
    outbox_rows: int
    scheduled_actions: int = 0
    sla_clocks: int = 0


def sweep_once(
    db: Engine, queue: JobQueue, now: datetime, reenqueue_after: timedelta | None = None
) -> SweepReport:
    """Enqueue every inbound event and outbox row whose work is owed; say how many."""
    stale = now - (reenqueue_after or job_timings().reenqueue_after)
    with system_session(db) as session:
        event_ids = list(
            session.scalars(
                select(InboundEvent.id)
                .where(
                    or_(
                        and_(
                            InboundEvent.state == "received",
                            or_(
                                InboundEvent.enqueued_at.is_(None), InboundEvent.enqueued_at < stale
                            ),
                            or_(
                                InboundEvent.lease_expires_at.is_(None),
                                InboundEvent.lease_expires_at <= now,
                            ),
                        ),
                        and_(
                            InboundEvent.state == "processing",
                            InboundEvent.lease_expires_at <= now,
                        ),
                    )
                )
                .order_by(InboundEvent.id)
                .limit(BATCH)
            )
        )
        row_ids = list(
            session.scalars(
                select(OutboxRow.id)
                .where(
                    or_(
                        and_(
                            OutboxRow.state == "queued",
                            or_(
                                OutboxRow.next_attempt_at.is_(None),
                                OutboxRow.next_attempt_at <= now,
                            ),
                            or_(OutboxRow.enqueued_at.is_(None), OutboxRow.enqueued_at < stale),
                        ),
                        and_(OutboxRow.state == "sending", OutboxRow.lease_expires_at <= now),
                    )
                )
                .order_by(OutboxRow.id)
                .limit(BATCH)
            )
        )
        action_ids = list(
            session.scalars(
                select(ScheduledAction.id)
                .where(
                    or_(
                        and_(
                            ScheduledAction.state == "pending",
                            ScheduledAction.due_at <= now,
                            or_(
                                ScheduledAction.enqueued_at.is_(None),
                                ScheduledAction.enqueued_at < stale,
                            ),
                        ),
                        and_(
                            ScheduledAction.state == "running",
                            ScheduledAction.lease_expires_at <= now,
                        ),
                    )
                )
                .order_by(ScheduledAction.due_at)
                .limit(BATCH)
            )
        )
        clock_ids = list(
            session.scalars(
                select(SlaClock.id)
                .where(
                    SlaClock.stopped_at.is_(None),
                    or_(
                        and_(SlaClock.warned_at.is_(None), SlaClock.warn_at <= now),
                        and_(SlaClock.breached_at.is_(None), SlaClock.due_at <= now),
                    ),
                    or_(SlaClock.enqueued_at.is_(None), SlaClock.enqueued_at < stale),
                )
                .order_by(SlaClock.due_at)
                .limit(BATCH)
            )
        )
        # Mark before enqueueing: if the enqueue is lost, the mark only delays the
        # next try by the re-enqueue delay; it never hides the row.
        if event_ids:
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(event_ids))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        if row_ids:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(row_ids))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        if action_ids:
            session.execute(
                update(ScheduledAction)
                .where(ScheduledAction.id.in_(action_ids))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        if clock_ids:
            session.execute(
                update(SlaClock)
                .where(SlaClock.id.in_(clock_ids))
                .values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    for event_id in event_ids:
        queue.enqueue(PROCESS_INBOUND_EVENT, event_id=event_id)
    for row_id in row_ids:
        queue.enqueue(DISPATCH_OUTBOX_ROW, row_id=row_id)
    for action_id in action_ids:
        queue.enqueue(RUN_SCHEDULED_ACTION, action_id=action_id)
    for clock_id in clock_ids:
        queue.enqueue(CHECK_SLA_CLOCK, clock_id=clock_id)
    return SweepReport(
        inbound_events=len(event_ids),
        outbox_rows=len(row_ids),
        scheduled_actions=len(action_ids),
        sla_clocks=len(clock_ids),
    )


class SweeperLoop:
    """Runs the sweep every `interval` (job_timings() by default) in a thread of each worker.

    A huey lock (held in the shared queue storage, so across processes and
    machines) keeps two workers from sweeping at the same moment.
    """

    def __init__(
        self,
        db: Engine,
        queue: JobQueue,
        huey: Huey,
        clock: Clock,
        interval: timedelta | None = None,
    ) -> None:
        self._db, self._queue, self._huey, self._clock = db, queue, huey, clock
        self._interval = interval or job_timings().sweep_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kazi-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._huey.lock_task("kazi-sweeper"):
                    report = sweep_once(self._db, self._queue, self._clock.now())
                if any(vars(report).values()):
                    logger.info("sweeper enqueued %s", vars(report))
            except TaskLockedException:
                pass  # another worker is sweeping right now
            except Exception:  # keep sweeping: a database or Redis outage must only delay work
                logger.exception("sweep failed; trying again in %s", self._interval)
            self._stop.wait(self._interval.total_seconds())
