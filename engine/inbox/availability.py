"""Teammates set themselves available or away; routing passes over who is away.

Kept on the teammate's row, not in process memory, so the web server, the worker
and every other process route alike. Each change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.errors import NotFound
from engine.models import Teammate


@dataclass(frozen=True)
class Availability:
    handle: str
    name: str
    away: bool
    since: datetime | None  # when they went away; None while available


@dataclass(frozen=True)
class _Subject:
    owner_id: int | None


def availability_of(teammate: Teammate) -> Availability:
    return Availability(teammate.handle, teammate.name, teammate.away, teammate.away_since)


def team_availability(session: Session) -> list[Availability]:
    """Every active teammate of the workspace and whether they are away."""
    return [
        availability_of(t)
        for t in session.scalars(
            select(Teammate).where(Teammate.active.is_(True)).order_by(Teammate.handle)
        )
    ]


def my_availability(session: Session, principal: Principal) -> Availability | None:
    """The signed-in teammate's own; None for an API token, which is nobody."""
    if principal.teammate_id is None:
        return None
    teammate = session.get(Teammate, principal.teammate_id)
    return availability_of(teammate) if teammate is not None else None


def set_away(
    session: Session,
    principal: Principal,
    away: bool,
    now: datetime,
    handle: str | None = None,
) -> Availability:
    """Set a teammate (oneself when `handle` is None) away or available again."""
    if handle is None:
        if principal.teammate_id is None:
            raise NotFound("an API token is nobody: name the teammate")
        teammate = session.get(Teammate, principal.teammate_id)
    else:
        teammate = session.scalar(select(Teammate).where(Teammate.handle == handle))
    if teammate is None or not teammate.active:
        raise NotFound(f"no active teammate {handle!r}")
    require(principal, Action.SET_AVAILABILITY, _Subject(teammate.id))
    if teammate.away != away:
        teammate.away = away
        teammate.away_since = now if away else None
        record(
            session,
            principal,
            "set_away" if away else "set_available",
            subject_kind="teammate",
            subject_id=teammate.id,
            now=now,
            teammate=teammate.handle,
        )
    return availability_of(teammate)
