"""The audit log as managers read it: who (a teammate, a rule, a job) did what to which
record and when, newest first, filtered by actor, action and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditLog, Teammate

PAGE = 200
HEADERS = ("at", "actor_kind", "actor", "action", "subject_kind", "subject_id", "detail")


@dataclass(frozen=True)
class AuditFilters:
    teammate_id: int | None = None
    actor_name: str | None = None  # a rule's or a job's name
    action: str | None = None
    start: date | None = None
    end: date | None = None  # inclusive, in the workspace's days
    before_id: int | None = None  # the next page: entries older than this one


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_kind: str
    actor: str
    action: str
    subject_kind: str
    subject_id: int | None
    detail: dict[str, Any]

    def row(self) -> tuple[Any, ...]:
        detail = "; ".join(f"{k}={v}" for k, v in sorted(self.detail.items()))
        return (
            self.at.isoformat(),
            self.actor_kind,
            self.actor,
            self.action,
            self.subject_kind,
            self.subject_id,
            detail,
        )


def audit_entries(
    session: Session, filters: AuditFilters, zone: tzinfo, limit: int = PAGE
) -> list[AuditEntry]:
    """Up to `limit` entries matching `filters`, newest first."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if filters.teammate_id is not None:
        query = query.where(AuditLog.actor_teammate_id == filters.teammate_id)
    if filters.actor_name:
        query = query.where(AuditLog.actor_name == filters.actor_name)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.start is not None:
        query = query.where(AuditLog.at >= datetime.combine(filters.start, time(), zone))
    if filters.end is not None:
        next_day = datetime.combine(filters.end + timedelta(days=1), time(), zone)
        query = query.where(AuditLog.at < next_day)
    if filters.before_id is not None:
        query = query.where(AuditLog.id < filters.before_id)
    names = dict(session.execute(select(Teammate.id, Teammate.name)).tuples().all())
    return [
        AuditEntry(
            id=entry.id,
            at=entry.at,
            actor_kind=entry.actor_kind,
            actor=names.get(entry.actor_teammate_id or 0, "")
            if entry.actor_teammate_id is not None
            else (entry.actor_name or entry.actor_kind),
            action=entry.action,
            subject_kind=entry.subject_kind,
            subject_id=entry.subject_id,
            detail=dict(entry.detail or {}),
        )
        for entry in session.scalars(query)
    ]


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actions and the non-teammate actor names found in the log, for the filters."""
    actions = sorted(session.scalars(select(AuditLog.action).distinct()))
    names = sorted(
        n for n in session.scalars(select(AuditLog.actor_name).distinct()) if n is not None
    )
    return actions, names
