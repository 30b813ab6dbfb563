"""The job that turns one stored inbound event into domain changes.

It claims the event with a lease, hands it to its provider's handler inside a
transaction scoped to the event's workspace, and records the outcome on the
event itself: processed, retried later with backoff, or failed with the error
for staff to see and retry. Safe to run twice for the same event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from engine.conversations.events import ConversationEvent
from engine.core.clock import Clock
from engine.core.queue import JobQueue
from engine.db import enable_batch_cache, system_session, workspace_session
from engine.jobs.at_commit import enqueue_outbox_at_commit
from engine.jobs.leases import claim, claim_ready, retry_delay
from engine.jobs.names import INBOUND_BATCH_SIZE
from engine.jobs.timing import job_timings
from engine.models import InboundEvent
from engine.models.states import InboundState
from engine.observability import EVENTS, add_log_ids, log_context

logger = logging.getLogger(__name__)

AUTOMATIC_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=10)
RETRY_CEILING = timedelta(minutes=10)

InboundHandler = Callable[[Session, InboundEvent, datetime], Sequence[ConversationEvent] | None]
"""Applies the event inside its workspace transaction; returns the domain events it caused."""

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]
"""Runs the rules for those domain events, in the same transaction (workspace id given)."""


class NoHandler(Exception):
    """No handler is registered for the event's provider."""


class FlagForStaff(Exception):
    """Raised by a handler: the event is authentic but must not be applied as it is (a
    message on a number the workspace does not own, a dashboard test sample). Nothing it
    did is kept; the event is stored `flagged` with this reason for the admin, without a
    traceback or retries. Staff may retry it once they have fixed the cause."""


def process_inbound_event(
    *,
    event_id: int,
    db: Engine,
    clock: Clock,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None = None,
    queue: JobQueue | None = None,
) -> None:
    """One event: claim it, apply it in its own transaction, record the outcome."""
    now = clock.now()
    with system_session(db) as session:
        won = claim(
            session,
            InboundEvent,
            event_id,
            now=now,
            lease=job_timings().lease,
            ready_state="received",
            working_state="processing",
        )
        workspace_id = session.scalar(
            select(InboundEvent.workspace_id).where(InboundEvent.id == event_id)
        )
        session.commit()
    if not won or workspace_id is None:
        return
    add_log_ids(workspace_id=workspace_id)
    _process_claimed(db, workspace_id, event_id, now, handlers, automations, queue)


def process_inbound_batch(
    *,
    db: Engine,
    clock: Clock,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None = None,
    queue: JobQueue | None = None,
    workspace_id: int | None = None,
    limit: int = INBOUND_BATCH_SIZE,
) -> None:
    """The worker's job: claim up to `limit` ready events (lowest ids first, the same
    lease as `process_inbound_event`) and apply them.

    A workspace's events share one transaction, applied one after the other in id
    order, so a conversation's events keep their order. When any of them fails the
    transaction is rolled back and the events are applied again with a savepoint
    each, so the bad one is recorded (flagged, retried or failed, as for one event)
    and the others still commit; should even that transaction fail, each event goes
    through alone. Enqueue it as often as you like: a run that finds nothing ready
    costs one SELECT. Every event of a batch is applied at the batch's `now`.
    `workspace_id` keeps the claim to that workspace's events (the
    webhook that stored them says which); None claims any workspace's."""
    now = clock.now()
    with system_session(db) as session:
        claimed = claim_ready(
            session,
            InboundEvent,
            now=now,
            lease=job_timings().lease,
            ready_state="received",
            working_state="processing",
            limit=limit,
            returning=InboundEvent.workspace_id,
            where=None if workspace_id is None else InboundEvent.workspace_id == workspace_id,
        )
        session.commit()
    groups: dict[int, list[int]] = {}
    for event_id, owner in claimed:
        groups.setdefault(int(owner), []).append(event_id)
    for owner, event_ids in groups.items():
        with log_context(workspace_id=owner):
            _process_group(db, owner, event_ids, now, handlers, automations, queue)


def _process_group(
    db: Engine,
    workspace_id: int,
    event_ids: list[int],
    now: datetime,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None,
    queue: JobQueue | None,
) -> None:
    try:
        outcomes = _apply_together(
            db, workspace_id, event_ids, now, handlers, automations, queue, careful=False
        )
    except Exception:
        logger.debug("a batch of %s events failed; each again under a savepoint", len(event_ids))
        try:
            outcomes = _apply_together(
                db, workspace_id, event_ids, now, handlers, automations, queue, careful=True
            )
        except Exception:
            logger.warning("a batch of %s events failed to commit; each alone", len(event_ids))
            for event_id in event_ids:
                with log_context(event_id=event_id):
                    _process_claimed(db, workspace_id, event_id, now, handlers, automations, queue)
            return
    for provider, outcome in outcomes:
        EVENTS.labels(provider, outcome).inc()


def _apply_together(
    db: Engine,
    workspace_id: int,
    event_ids: list[int],
    now: datetime,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None,
    queue: JobQueue | None,
    *,
    careful: bool,
) -> list[tuple[str, str]]:
    """The events in one transaction; (provider, outcome) for each. Not `careful`: the
    first error rolls everything back and is raised. `careful`: a savepoint each, and
    an error is recorded on its event as `process_inbound_event` records it."""
    outcomes: list[tuple[str, str]] = []
    with workspace_session(db, workspace_id) as session:
        # Not careful: any error rolls everything back and the batch is done again with
        # a savepoint per event, so the steps inside need no savepoints of their own.
        enable_batch_cache(session, all_or_nothing=not careful)
        enqueue_outbox_at_commit(session, queue, now)
        events = session.scalars(
            select(InboundEvent).where(InboundEvent.id.in_(event_ids)).order_by(InboundEvent.id)
        ).all()
        processed: list[int] = []
        for event in events:
            event_id, provider = event.id, event.provider
            with log_context(event_id=event_id):
                if not careful:
                    _apply(session, workspace_id, event, now, handlers, automations)
                    processed.append(event_id)
                    outcomes.append((provider, "processed"))
                    continue
                try:
                    with session.begin_nested():
                        _apply(session, workspace_id, event, now, handlers, automations)
                    processed.append(event_id)
                    outcomes.append((provider, "processed"))
                except FlagForStaff as flag:
                    logger.info("inbound event %s flagged: %s", event_id, flag)
                    _flag(event, str(flag), now)
                    outcomes.append((provider, "flagged"))
                except Exception as error:  # the job boundary: recorded where staff see it
                    logger.exception("inbound event %s failed", event_id)
                    gave_up = _fail(event, error, now)
                    outcomes.append((provider, "failed" if gave_up else "retry"))
        if processed:
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(processed))
                .values(
                    state=InboundState.PROCESSED,
                    processed_at=now,
                    lease_expires_at=None,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
        session.commit()
    return outcomes


def _apply(
    session: Session,
    workspace_id: int,
    event: InboundEvent,
    now: datetime,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None,
) -> None:
    handler = handlers.get(event.provider)
    if handler is None:
        raise NoHandler(f"no handler for provider {event.provider!r}")
    happened = handler(session, event, now) or ()
    if automations is not None and happened:
        automations(session, workspace_id, happened, now)


def _process_claimed(
    db: Engine,
    workspace_id: int,
    event_id: int,
    now: datetime,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None,
    queue: JobQueue | None,
) -> None:
    """An event this worker holds the lease of, in a transaction of its own."""
    provider = "unknown"
    try:
        with workspace_session(db, workspace_id) as session:
            enqueue_outbox_at_commit(session, queue, now)
            event = session.get(InboundEvent, event_id)
            if event is None:
                return
            provider = event.provider
            _apply(session, workspace_id, event, now, handlers, automations)
            event.state = InboundState.PROCESSED
            event.processed_at = now
            event.lease_expires_at = None
            event.last_error = None
            session.commit()
        EVENTS.labels(provider, "processed").inc()
    except FlagForStaff as flag:
        logger.info("inbound event %s flagged: %s", event_id, flag, extra={"event_id": event_id})
        _record_flag(db, workspace_id, event_id, str(flag), now)
        EVENTS.labels(provider, "flagged").inc()
    except Exception as error:  # the job boundary: record it where staff can see it
        logger.exception("inbound event %s failed", event_id, extra={"event_id": event_id})
        gave_up = _record_failure(db, workspace_id, event_id, error, now)
        EVENTS.labels(provider, "failed" if gave_up else "retry").inc()


def _record_flag(db: Engine, workspace_id: int, event_id: int, reason: str, now: datetime) -> None:
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        if event is None:
            return
        _flag(event, reason, now)
        session.commit()


def _flag(event: InboundEvent, reason: str, now: datetime) -> None:
    event.state = InboundState.FLAGGED
    event.last_error = reason[:2000]
    event.processed_at = now
    event.lease_expires_at = None


def _record_failure(
    db: Engine, workspace_id: int, event_id: int, error: Exception, now: datetime
) -> bool:
    """Records the error on the event; True when it is given up (failed, for staff)."""
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        if event is None:
            return False
        gave_up = _fail(event, error, now)
        session.commit()
        return gave_up


def _fail(event: InboundEvent, error: Exception, now: datetime) -> bool:
    """Records the error on the event; True when it is given up (failed, for staff)."""
    event.last_error = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, NoHandler) or event.attempts >= AUTOMATIC_ATTEMPTS:
        event.state = InboundState.FAILED
        event.lease_expires_at = None
    else:
        # Back to the queue, but not before the backoff has passed: the sweeper
        # hands out only events whose lease is free.
        event.state = InboundState.RECEIVED
        event.lease_expires_at = now + retry_delay(event.attempts, RETRY_BASE, RETRY_CEILING)
        event.enqueued_at = None
    return event.state == InboundState.FAILED


def reopen_failed_event(event: InboundEvent) -> bool:
    """Staff asked to try a failed (or flagged) event again: back to `received` for the
    sweeper. False when the event is not waiting on anyone's decision."""
    if event.state not in ("failed", "flagged"):
        return False
    event.state = InboundState.RECEIVED
    event.attempts = 0
    event.lease_expires_at = None
    event.enqueued_at = None
    return True


def retry_failed_event(db: Engine, workspace_id: int, event_id: int) -> bool:
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        if event is None or not reopen_failed_event(event):
            return False
        session.commit()
        return True
