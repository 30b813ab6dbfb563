"""Outbox rows made in a transaction are handed to the dispatch job when it commits.

A rule's send (or a media download an inbound message asks for) used to wait for the
sweeper's next pass. Now the session that makes the rows stamps them `enqueued_at`
before they are written and enqueues one dispatch job per row right after the commit.
The stamp keeps the sweeper away for its re-enqueue delay; if the enqueue is lost
(Redis down, the process killed between commit and enqueue) the sweeper hands the row
out after that delay, as for any lost job (DESIGN rule 6). Rows written inside a
savepoint that was rolled back are never enqueued; nothing is kept between sessions,
so any number of workers may do this at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.core.queue import JobQueue
from engine.jobs.names import DISPATCH_OUTBOX_ROW
from engine.models import OutboxRow
from engine.models.states import OutboxState

logger = logging.getLogger(__name__)

_CREATED = "kazi.outbox_rows_to_enqueue"


def enqueue_outbox_at_commit(session: Session, queue: JobQueue | None, now: datetime) -> None:
    """From now on, every outbox row this session writes that is due by `now` is
    enqueued for dispatch once its transaction commits. Idempotent per session."""
    if queue is None or _CREATED in session.info:
        return
    created: list[OutboxRow] = []
    session.info[_CREATED] = created

    def stamp(session: Session, _context: Any, _instances: Any) -> None:
        for row in session.new:
            if (
                isinstance(row, OutboxRow)
                and row.state in (None, OutboxState.QUEUED)
                and (row.next_attempt_at is None or row.next_attempt_at <= now)
                and row.enqueued_at is None
            ):
                row.enqueued_at = now
                created.append(row)

    def enqueue(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the rows are not visible to anyone yet
        # A row rolled back with its savepoint is transient again: no identity, no job.
        ids = [int(key[0]) for row in created if (key := inspect(row).identity) is not None]
        created.clear()
        for row_id in ids:
            try:
                queue.enqueue(DISPATCH_OUTBOX_ROW, row_id=row_id)
            except Exception:  # the queue is down: the sweeper finds the rest later
                logger.warning("could not enqueue outbox row %s; the sweeper will", row_id)
                break

    def forget(session: Session) -> None:
        if not session.in_nested_transaction():
            created.clear()

    event.listen(session, "before_flush", stamp)
    event.listen(session, "after_commit", enqueue)
    event.listen(session, "after_rollback", forget)
