"""The job queue as a port: jobs are named and carry JSON only (ids, never objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

JsonScalar = str | int | float | bool | None


class JobQueue(Protocol):
    def enqueue(self, job: str, **arguments: JsonScalar) -> None:
        """Ask a worker to run `job` with these arguments, at most once.

        The database stays the truth: a job that is lost is found again by the
        sweeper, so callers never depend on an enqueue having happened.
        """
        ...


@dataclass
class RecordingJobQueue:
    """A queue that only remembers what was asked of it, for tests."""

    enqueued: list[tuple[str, dict[str, JsonScalar]]] = field(default_factory=list)

    def enqueue(self, job: str, **arguments: JsonScalar) -> None:
        self.enqueued.append((job, dict(arguments)))

    def jobs(self, name: str) -> list[dict[str, JsonScalar]]:
        return [args for job, args in self.enqueued if job == name]
