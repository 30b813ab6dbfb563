"""Claiming a row for work with a lease, so two workers never run it at once.

A claim is one conditional UPDATE: it succeeds for exactly one caller, on
SQLite and PostgreSQL alike, and a worker that dies leaves a lease that expires
and lets the sweeper hand the row out again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session


def claim(
    session: Session,
    model: Any,
    row_id: int,
    *,
    now: datetime,
    lease: timedelta,
    ready_state: str,
    working_state: str,
) -> bool:
    """Move the row from `ready_state` (lease free) or an expired `working_state` into
    `working_state` with a fresh lease and one more attempt. True when this caller won."""
    lease_is_free = or_(model.lease_expires_at.is_(None), model.lease_expires_at <= now)
    result = session.execute(
        update(model)
        .where(
            model.id == row_id,
            or_(
                and_(model.state == ready_state, lease_is_free),
                and_(model.state == working_state, model.lease_expires_at <= now),
            ),
        )
        .values(state=working_state, lease_expires_at=now + lease, attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def retry_delay(attempts: int, base: timedelta, ceiling: timedelta) -> timedelta:
    """Exponential backoff: base, twice base, four times base, never above the ceiling."""
    return min(base * (2 ** max(0, attempts - 1)), ceiling)
