"""A teammate's notifications: the unread count in the header, the list, marking read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.auth.principal import Principal
from engine.models import Notification


def unread_count(session: Session, principal: Principal) -> int:
    if principal.teammate_id is None:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.teammate_id == principal.teammate_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def latest(session: Session, principal: Principal, limit: int = 50) -> list[Notification]:
    if principal.teammate_id is None:
        return []
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.teammate_id == principal.teammate_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(session: Session, principal: Principal, now: datetime) -> int:
    if principal.teammate_id is None:
        return 0
    result = session.execute(
        update(Notification)
        .where(Notification.teammate_id == principal.teammate_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
