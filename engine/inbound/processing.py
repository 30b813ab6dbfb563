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

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.conversations.events import ConversationEvent
from engine.core.clock import Clock
from engine.db import system_session, workspace_session
from engine.jobs.leases import claim, retry_delay
from engine.jobs.timing import job_timings
from engine.models import InboundEvent

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


class SetAside(Exception):
    """The event is authentic but matches nothing it could be applied to (a payment callback
    for a request this workspace never made): flagged for staff with the reason, not retried."""


def process_inbound_event(
    *,
    event_id: int,
    db: Engine,
    clock: Clock,
    handlers: Mapping[str, InboundHandler],
    automations: Automations | None = None,
) -> None:
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
    try:
        with workspace_session(db, workspace_id) as session:
            event = session.get(InboundEvent, event_id)
            if event is None:
                return
            handler = handlers.get(event.provider)
            if handler is None:
                raise NoHandler(f"no handler for provider {event.provider!r}")
            happened = handler(session, event, now) or ()
            if automations is not None and happened:
                automations(session, workspace_id, happened, now)
            event.state = "processed"
            event.processed_at = now
            event.lease_expires_at = None
            event.last_error = None
            session.commit()
    except SetAside as aside:
        _set_aside(db, workspace_id, event_id, str(aside), now)
    except Exception as error:  # the job boundary: record it where staff can see it
        logger.exception("inbound event %s failed", event_id, extra={"event_id": event_id})
        _record_failure(db, workspace_id, event_id, error, now)


def _set_aside(db: Engine, workspace_id: int, event_id: int, reason: str, now: datetime) -> None:
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        if event is None:
            return
        event.state = "flagged"
        event.last_error = reason[:2000]
        event.lease_expires_at = None
        event.processed_at = now
        session.commit()


def _record_failure(
    db: Engine, workspace_id: int, event_id: int, error: Exception, now: datetime
) -> None:
    with workspace_session(db, workspace_id) as session:
        event = session.get(InboundEvent, event_id)
        if event is None:
            return
        event.last_error = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, NoHandler) or event.attempts >= AUTOMATIC_ATTEMPTS:
            event.state = "failed"
            event.lease_expires_at = None
        else:
            # Back to the queue, but not before the backoff has passed: the sweeper
            # hands out only events whose lease is free.
            event.state = "received"
            event.lease_expires_at = now + retry_delay(event.attempts, RETRY_BASE, RETRY_CEILING)
            event.enqueued_at = None
        session.commit()


def reopen_failed_event(event: InboundEvent) -> bool:
    """Staff asked to try a failed (or flagged) event again: back to `received` for the
    sweeper. False when the event is not waiting on anyone's decision."""
    if event.state not in ("failed", "flagged"):
        return False
    event.state = "received"
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
