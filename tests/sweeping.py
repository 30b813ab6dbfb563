"""Sweeping a database the run's other tests share.

One sweep hands out at most `BATCH` rows of each kind, oldest first, and the
suite leaves many owed rows behind; so a test's own rows may only come out of
a later sweep. Each sweep marks what it handed out, so sweeping until a sweep
hands the job nothing new reaches every owed row. (Rows whose lease ran out are
handed out by every sweep: they are not new the second time.)
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Engine

from engine.core.queue import RecordingJobQueue
from engine.jobs.sweeper import sweep_once

MAX_SWEEPS = 100


def swept(db: Engine, now: datetime, job: str, argument: str, mine: Collection[int]) -> list[int]:
    """The ids among `mine` that sweeps at `now` hand to `job`, in the order handed out."""
    seen: set[int] = set()
    found: list[int] = []
    for _ in range(MAX_SWEEPS):
        queue = RecordingJobQueue()
        sweep_once(db, queue, now)
        handed_out = [int(args[argument]) for args in queue.jobs(job)]  # type: ignore[arg-type]
        new = [row_id for row_id in handed_out if row_id not in seen]
        if not new:
            return found
        seen.update(new)
        found += [row_id for row_id in new if row_id in mine]
    raise AssertionError(f"still handing out work after {MAX_SWEEPS} sweeps")
