"""Sign-in throttling, kept in the database so every server process counts the same tries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import SignInAttempt

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN = 5  # guessing one teammate's password
MAX_FAILURES_PER_CLIENT = 20  # one address trying many handles


def throttled_for(session: Session, *, login: str, client: str, now: datetime) -> timedelta | None:
    """How long this login or client must wait before trying again, or None."""
    since = now - WINDOW
    for column, value, limit in (
        (SignInAttempt.login, login, MAX_FAILURES_PER_LOGIN),
        (SignInAttempt.client, client, MAX_FAILURES_PER_CLIENT),
    ):
        failures = session.execute(
            select(func.count(), func.min(SignInAttempt.at)).where(
                column == value, SignInAttempt.at > since, SignInAttempt.succeeded.is_(False)
            )
        ).one()
        count, oldest = failures
        if count >= limit and oldest is not None:
            return max(oldest + WINDOW - now, timedelta(seconds=1))
    return None


def record_attempt(
    session: Session, *, login: str, client: str, succeeded: bool, now: datetime
) -> None:
    session.add(SignInAttempt(login=login, client=client[:64], succeeded=succeeded, at=now))
    session.flush()
