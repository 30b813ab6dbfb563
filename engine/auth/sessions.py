"""Server-side sign-in sessions: started (rotated) at sign-in, checked on every
request, ended at sign-out, on password change and by an admin."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.orm import Session

from engine.auth.bearer import new_secret, parse_secret
from engine.auth.principal import Principal, Role
from engine.db import unit_of_work, workspace_session
from engine.models import Teammate, TeamMembership, WebSession

SESSION_LIFETIME = timedelta(days=7)
IDLE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often, so reading pages is not a write each time.
TOUCH_EVERY = timedelta(minutes=1)


def start_session(
    session: Session, *, teammate: Teammate, now: datetime, user_agent: str | None = None
) -> str:
    """A new session for `teammate`; returns the cookie value (shown once, stored hashed)."""
    secret, token_hash = new_secret(teammate.workspace_id)
    session.add(
        WebSession(
            teammate_id=teammate.id,
            token_hash=token_hash,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    session.flush()
    return secret


def end_session(db: Engine, cookie: str | None, now: datetime, reason: str) -> bool:
    """End the session a cookie names, if it is live; True when one was ended."""
    parsed = parse_secret(cookie)
    if parsed is None:
        return False
    with unit_of_work(db, parsed.workspace_id) as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(WebSession)
                .where(WebSession.token_hash == parsed.token_hash, WebSession.ended_at.is_(None))
                .values(ended_at=now, ended_reason=reason)
                .execution_options(synchronize_session=False)
            ),
        )
        return bool(result.rowcount)


def end_teammate_sessions(
    session: Session, teammate_id: int, now: datetime, reason: str, *, keep_id: int | None = None
) -> int:
    """End every live session of a teammate (but `keep_id`); returns how many ended."""
    statement = update(WebSession).where(
        WebSession.teammate_id == teammate_id, WebSession.ended_at.is_(None)
    )
    if keep_id is not None:
        statement = statement.where(WebSession.id != keep_id)
    result = cast(
        CursorResult[Any],
        session.execute(
            statement.values(ended_at=now, ended_reason=reason).execution_options(
                synchronize_session=False
            )
        ),
    )
    return int(result.rowcount)


def authenticate_session(db: Engine, cookie: str | None, now: datetime) -> Principal | None:
    """The teammate a session cookie signs in, or None (unknown, ended, expired, idle,
    or the teammate was deactivated or has no password any more)."""
    parsed = parse_secret(cookie)
    if parsed is None:
        return None
    with workspace_session(db, parsed.workspace_id) as session:
        row = session.execute(
            select(WebSession, Teammate)
            .join(Teammate, Teammate.id == WebSession.teammate_id)
            .where(WebSession.token_hash == parsed.token_hash, WebSession.ended_at.is_(None))
        ).first()
        if row is None:
            return None
        web_session, teammate = row
        if (
            web_session.expires_at <= now
            or web_session.last_seen_at + IDLE_TIMEOUT <= now
            or not teammate.active
            or not teammate.password_hash
        ):
            return None
        if web_session.last_seen_at + TOUCH_EVERY <= now:
            web_session.last_seen_at = now
            session.commit()
        return teammate_principal(session, teammate, session_id=web_session.id)


def teammate_principal(
    session: Session, teammate: Teammate, *, session_id: int | None = None
) -> Principal:
    team_ids = frozenset(
        session.scalars(
            select(TeamMembership.team_id).where(TeamMembership.teammate_id == teammate.id)
        )
    )
    return Principal(
        workspace_id=teammate.workspace_id,
        role=Role.parse(teammate.role),
        name=teammate.name,
        teammate_id=teammate.id,
        team_ids=team_ids,
        session_id=session_id,
    )
