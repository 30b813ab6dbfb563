"""Signing in and out with a handle or email and a password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_, select

from engine.auth.passwords import hash_password, needs_rehash, verify_password
from engine.auth.sessions import end_session, start_session
from engine.auth.throttle import record_attempt, throttled_for
from engine.db import system_session, unit_of_work
from engine.models import Teammate, Workspace

WRONG = "That handle or password is not right."


@dataclass(frozen=True)
class SignInResult:
    cookie: str | None  # the new session's cookie value when signed in
    error: str | None = None
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.cookie is not None


def workspace_id_for(db: Engine, slug: str) -> int | None:
    """The id of the workspace named by `slug`. Crosses workspaces on purpose: it is
    the one lookup that must happen before anyone is known to belong anywhere."""
    with system_session(db) as session:
        return session.scalar(select(Workspace.id).where(Workspace.slug == slug.strip().lower()))


def sign_in(
    db: Engine,
    *,
    workspace_slug: str,
    login: str,
    password: str,
    client: str,
    now: datetime,
    user_agent: str | None = None,
    previous_cookie: str | None = None,
) -> SignInResult:
    """Check the password and start a new session, ending the one the browser had
    (rotation: a session id planted before sign-in is worth nothing after it)."""
    login = login.strip().lower()[:320]
    workspace_id = workspace_id_for(db, workspace_slug)
    if workspace_id is None or not login:
        verify_password(None, password)  # same effort as a real check
        return SignInResult(cookie=None, error=WRONG)
    end_session(db, previous_cookie, now, "rotated")
    with unit_of_work(db, workspace_id) as session:
        wait = throttled_for(session, login=login, client=client, now=now)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            return SignInResult(
                cookie=None,
                error=f"Too many failed tries. Try again in {minutes} minute(s).",
                retry_after=wait,
            )
        teammate = session.scalars(
            select(Teammate).where(
                Teammate.active.is_(True),
                or_(func.lower(Teammate.handle) == login, func.lower(Teammate.email) == login),
            )
        ).first()
        stored = teammate.password_hash if teammate else None
        if teammate is None or not verify_password(stored, password):
            record_attempt(session, login=login, client=client, succeeded=False, now=now)
            return SignInResult(cookie=None, error=WRONG)
        record_attempt(session, login=login, client=client, succeeded=True, now=now)
        if stored and needs_rehash(stored):
            teammate.password_hash = hash_password(password)
        return SignInResult(
            cookie=start_session(session, teammate=teammate, now=now, user_agent=user_agent)
        )
