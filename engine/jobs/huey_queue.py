"""The JobQueue port on huey: Redis when KAZI_REDIS_URL is set, else a SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey

from engine.core.queue import JsonScalar
from engine.jobs.serializer import JsonSerializer
from engine.observability import log_context, observed_job
from engine.settings import Settings

JobHandler = Callable[..., None]


def make_huey(settings: Settings, name: str = "kazi") -> Huey:
    """The huey instance for these settings; several processes may share it."""
    common: dict[str, Any] = {"results": False, "utc": True, "serializer": JsonSerializer()}
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url, **common)
    queue_file = Path(settings.var_dir) / f"{name}-queue.sqlite3"
    queue_file.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(queue_file), **common)


class HueyJobQueue:
    """Registers each job handler as a huey task under its own name and enqueues by name.

    The enqueuing process (a server) and the running one (a worker) register the
    same names; only the worker ever calls the handlers.
    """

    def __init__(self, huey: Huey, handlers: Mapping[str, JobHandler]) -> None:
        self.huey = huey
        self._tasks = {
            job: huey.task(name=job)(_named(job, handler)) for job, handler in handlers.items()
        }

    def enqueue(self, job: str, **arguments: JsonScalar) -> None:
        try:
            task = self._tasks[job]
        except KeyError:
            raise LookupError(f"no job named {job!r} is registered") from None
        task(**arguments)

    def incarnation(self) -> str | None:
        """Redis's run_id, which a restart changes (and a restart loses every queued job);
        None for huey on SQLite, whose queue file outlives a restart."""
        connection = getattr(self.huey.storage, "conn", None)
        if connection is None or not hasattr(connection, "info"):
            return None
        return str(connection.info("server").get("run_id") or "") or None

    def pending(self) -> int:
        """How many jobs wait in the queue; also proves the queue's storage answers."""
        return int(self.huey.pending_count())


def _named(job: str, handler: JobHandler) -> JobHandler:
    """Give the task a stable identity: huey keys tasks by module and name, and a
    server and a worker must agree on it whatever function sits behind the job."""

    def run(**arguments: Any) -> None:
        # Its log lines carry the job and its ids (event_id, row_id...).
        with log_context(job=job, **arguments), observed_job(job):
            handler(**arguments)

    run.__module__ = "kazi.jobs"
    run.__name__ = run.__qualname__ = job
    run.__doc__ = getattr(handler, "__doc__", None)
    return run
