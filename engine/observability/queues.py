"""Queue depths read from the database at scrape time.

The database is the truth about owed work (DESIGN, reliability rule 6), so the gauges
come from it rather than from counters in some process: the same numbers whichever
process answers, and right after any restart. Every query reads an index
(ix_inbound_events_sweep, ix_outbox_rows_sweep) and only the unfinished states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from engine.db import system_session
from engine.models import InboundEvent, OutboxRow
from engine.models.states import InboundState, OutboxState

OWED_INBOUND = (InboundState.RECEIVED, InboundState.PROCESSING, InboundState.FAILED)
OWED_OUTBOX = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED)


class QueueDepths(Collector):
    """Gauges of owed work: inbound events and outbox rows by state, their age, and the
    jobs waiting in the job queue."""

    def __init__(
        self,
        db: Engine,
        now: Callable[[], datetime],
        pending_jobs: Callable[[], int] | None = None,
    ) -> None:
        self.db = db
        self.now = now
        self.pending_jobs = pending_jobs

    def collect(self) -> Iterable[Metric]:
        now = self.now()
        inbound = GaugeMetricFamily(
            "kazi_inbound_events_owed",
            "Inbound events not yet processed, by provider and state.",
            labels=["provider", "state"],
        )
        lag = GaugeMetricFamily(
            "kazi_inbound_lag_seconds",
            "Age of the oldest inbound event waiting to be processed (ingest lag).",
            labels=["provider"],
        )
        outbox = GaugeMetricFamily(
            "kazi_outbox_rows_owed",
            "Outbox rows not yet done, by kind and state.",
            labels=["kind", "state"],
        )
        outbox_age = GaugeMetricFamily(
            "kazi_outbox_oldest_seconds",
            "Age of the oldest queued or sending outbox row, by kind.",
            labels=["kind"],
        )
        with system_session(self.db) as session:
            rows = session.execute(
                select(
                    InboundEvent.provider,
                    InboundEvent.state,
                    func.count(),
                    func.min(InboundEvent.received_at),
                )
                .where(InboundEvent.state.in_([s.value for s in OWED_INBOUND]))
                .group_by(InboundEvent.provider, InboundEvent.state)
            ).all()
            oldest: dict[str, datetime] = {}
            for provider, state, count, first in rows:
                inbound.add_metric([provider, state], count)
                if state != InboundState.FAILED and first is not None:
                    oldest[provider] = min(first, oldest.get(provider, first))
            for provider, first in sorted(oldest.items()):
                lag.add_metric([provider], _seconds_since(first, now))
            rows = session.execute(
                select(
                    OutboxRow.kind, OutboxRow.state, func.count(), func.min(OutboxRow.created_at)
                )
                .where(OutboxRow.state.in_([s.value for s in OWED_OUTBOX]))
                .group_by(OutboxRow.kind, OutboxRow.state)
            ).all()
            oldest = {}
            for kind, state, count, first in rows:
                outbox.add_metric([kind, state], count)
                if state != OutboxState.FAILED and first is not None:
                    oldest[kind] = min(first, oldest.get(kind, first))
            for kind, first in sorted(oldest.items()):
                outbox_age.add_metric([kind], _seconds_since(first, now))
        yield from (inbound, lag, outbox, outbox_age)
        if self.pending_jobs is not None:
            jobs = GaugeMetricFamily(
                "kazi_jobs_pending", "Jobs waiting in the job queue (huey) for a worker."
            )
            jobs.add_metric([], self.pending_jobs())
            yield jobs


def _seconds_since(moment: datetime, now: datetime) -> float:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        now = now.replace(tzinfo=None)
    return max(0.0, (now - moment).total_seconds())
