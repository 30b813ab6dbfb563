"""The worker side of a scenario: the sweeper's queue and the jobs it hands out.

Two ways to run them, with the same handlers production wires:

- `DirectJobs`: the sweeper enqueues into a recording queue and each job is called
  in this process, as a huey worker would call it.
- `HueyJobs`: the queue is the real huey of `engine.composition.build_runtime`
  (SqliteHuey on the SQLite run, RedisHuey on the PostgreSQL + Redis run) and the
  jobs come back out through huey's own `dequeue()` and `execute()`.

Either way, only jobs about the scenario's own workspace run: the test database is
shared, so the sweep also finds rows other tests left behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from huey import Huey
from huey import signals as huey_signals
from sqlalchemy import Engine, select

from connectors.whatsapp.fake import FakeSender
from engine.automation.inbound import automations_for
from engine.automation.scheduled import run_scheduled_action
from engine.automation.tasks import report_task_due
from engine.composition import Runtime, default_inbound_handlers
from engine.core.clock import Clock
from engine.core.queue import JobQueue, JsonScalar, RecordingJobQueue
from engine.db import workspace_session
from engine.inbound.processing import process_inbound_event
from engine.jobs.huey_queue import JobHandler
from engine.jobs.names import (
    CHECK_SLA_CLOCK,
    DISPATCH_OUTBOX_ROW,
    PROCESS_INBOUND_EVENT,
    REPORT_TASK_DUE,
    RUN_SCHEDULED_ACTION,
)
from engine.jobs.sweeper import OWED, sweep_once
from engine.outbox.dispatch import Executor, dispatch_outbox_row
from engine.sla.clocks import check_clock
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from engine.workspaces.directory import ConfigDirectory

# Which row each job's one argument names: the sweeper's own table of owed work.
_SUBJECT: Mapping[str, Any] = {kind.argument: kind.model for kind in OWED}
MAX_ROUNDS = 50  # sweeps in a row that still find work before we call it a runaway


def send_executors(sender: FakeSender) -> dict[str, Executor]:
    """WhatsApp sends go to the fake sender, through the real send executor."""
    return {SEND_KIND: make_send_executor(lambda _workspace_id, _number: sender)}


class Jobs(Protocol):
    db: Engine
    queue: JobQueue

    def run_queued(self, workspace_id: int) -> int:
        """Run every queued job about this workspace; how many ran."""
        ...


def is_about(db: Engine, workspace_id: int, arguments: Mapping[str, Any]) -> bool:
    """Does the job's row belong to the workspace?"""
    for name, model in _SUBJECT.items():
        if name in arguments:
            with workspace_session(db, workspace_id) as session:
                found = session.scalar(select(model.id).where(model.id == arguments[name]))
            return found is not None
    raise LookupError(f"a job with unknown arguments: {dict(arguments)}")


def settle(jobs: Jobs, workspace_id: int, now: datetime) -> None:
    """Sweep and run what the sweep finds until nothing is owed at `now`."""
    for _ in range(MAX_ROUNDS):
        sweep_once(jobs.db, jobs.queue, now)
        if jobs.run_queued(workspace_id) == 0:
            return
    raise RuntimeError(f"jobs kept coming after {MAX_ROUNDS} sweeps at {now}")


class DirectJobs:
    def __init__(
        self, db: Engine, clock: Clock, configs: ConfigDirectory, sender: FakeSender
    ) -> None:
        self.db = db
        self.recorded = RecordingJobQueue()
        self.queue: JobQueue = self.recorded
        # The same handlers, with the same arguments, as engine.composition.build_runtime.
        self.handlers: dict[str, JobHandler] = {
            PROCESS_INBOUND_EVENT: partial(
                process_inbound_event,
                db=db,
                clock=clock,
                handlers=default_inbound_handlers(),
                automations=automations_for(configs),
            ),
            CHECK_SLA_CLOCK: partial(check_clock, db=db, clock=clock, configs=configs),
            REPORT_TASK_DUE: partial(report_task_due, db=db, clock=clock, configs=configs),
            RUN_SCHEDULED_ACTION: partial(
                run_scheduled_action, db=db, clock=clock, configs=configs
            ),
            DISPATCH_OUTBOX_ROW: partial(
                dispatch_outbox_row, db=db, clock=clock, executors=send_executors(sender)
            ),
        }

    def run_queued(self, workspace_id: int) -> int:
        queued: list[tuple[str, dict[str, JsonScalar]]] = list(self.recorded.enqueued)
        self.recorded.enqueued.clear()
        ran = 0
        for job, arguments in queued:
            if is_about(self.db, workspace_id, arguments):
                self.handlers[job](**arguments)
                ran += 1
        return ran


class HueyJobs:
    def __init__(self, runtime: Runtime) -> None:
        self.db = runtime.db
        self.queue: JobQueue = runtime.queue
        self.huey: Huey = runtime.huey
        self.errors: list[str] = []
        self.executed: list[str] = []  # the names of the huey tasks run
        self.huey.signal(huey_signals.SIGNAL_ERROR)(self._failed)

    def _failed(self, signal: str, task: Any, exc: BaseException | None = None) -> None:
        self.errors.append(f"{task.name}: {exc!r}")

    def run_queued(self, workspace_id: int) -> int:
        ran = 0
        # Ask first: RedisHuey's dequeue blocks for a second on an empty queue.
        while self.huey.pending_count() and (task := self.huey.dequeue()) is not None:
            if is_about(self.db, workspace_id, task.kwargs):
                self.huey.execute(task)
                self.executed.append(task.name)
                ran += 1
        if self.errors:
            raise AssertionError(f"huey tasks failed: {self.errors}")
        return ran
