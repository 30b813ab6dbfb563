"""Claiming a row for work with a lease, so two workers never run it at once.

A claim is one conditional UPDATE: it succeeds for exactly one caller, on
SQLite and PostgreSQL alike, and a worker that dies leaves a lease that expires
and lets the sweeper hand the row out again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
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


def claim_ready(
    session: Session,
    model: Any,
    *,
    now: datetime,
    lease: timedelta,
    ready_state: str,
    working_state: str,
    limit: int,
    returning: Any,
    where: Any = None,
) -> list[tuple[int, Any]]:
    """`claim` for up to `limit` rows at once, lowest ids first: (id, `returning` column)
    for each row this caller won, by id.

    The first ready ids are read, then claimed by an UPDATE that repeats the claim
    condition, so when two workers pick the same ids the database hands each row to one
    of them (PostgreSQL re-checks the condition after the other's row lock; SQLite runs
    writers one at a time). On PostgreSQL the read also locks the rows it picks and
    passes over the ones another worker is claiming, so two workers take different rows."""
    lease_is_free = or_(model.lease_expires_at.is_(None), model.lease_expires_at <= now)
    claimable = or_(
        and_(model.state == ready_state, lease_is_free),
        and_(model.state == working_state, model.lease_expires_at <= now),
    )
    first_ready = select(model.id).where(claimable).order_by(model.id).limit(limit)
    if where is not None:
        first_ready = first_ready.where(where)
    if session.get_bind().dialect.name == "postgresql":
        first_ready = first_ready.with_for_update(skip_locked=True)
    ids = list(session.scalars(first_ready))
    if not ids:
        return []
    rows = session.execute(
        update(model)
        .where(model.id.in_(ids), claimable)
        .values(state=working_state, lease_expires_at=now + lease, attempts=model.attempts + 1)
        .returning(model.id, returning)
        .execution_options(synchronize_session=False)
    )
    return sorted((int(row_id), value) for row_id, value in rows.tuples())
