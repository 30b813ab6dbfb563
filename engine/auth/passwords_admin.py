"""Setting and changing passwords; either ends the teammate's other sessions."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.auth.passwords import hash_password, verify_password
from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.auth.sessions import end_teammate_sessions
from engine.auth.signin import workspace_id_for
from engine.db import unit_of_work
from engine.models import Teammate


class UnknownTeammate(LookupError):
    pass


class WrongPassword(ValueError):
    pass


def find_teammate(session: Session, handle: str) -> Teammate:
    teammate = session.scalars(select(Teammate).where(Teammate.handle == handle)).first()
    if teammate is None:
        raise UnknownTeammate(f"no teammate with handle {handle!r} in this workspace")
    return teammate


def set_password(session: Session, teammate: Teammate, password: str, now: datetime) -> int:
    """Give `teammate` a new password (CLI, invite) and end all their sessions.
    Returns how many sessions ended."""
    teammate.password_hash = hash_password(password)
    return end_teammate_sessions(session, teammate.id, now, "password changed")


def change_own_password(
    session: Session, principal: Principal, current: str, new: str, now: datetime
) -> int:
    """A signed-in teammate changes their password; their other sessions end, this one stays."""
    require(principal, Action.CHANGE_OWN_PASSWORD)
    teammate = session.get(Teammate, principal.teammate_id)
    if teammate is None or not verify_password(teammate.password_hash, current):
        raise WrongPassword("the current password is not right")
    teammate.password_hash = hash_password(new)
    return end_teammate_sessions(
        session, teammate.id, now, "password changed", keep_id=principal.session_id
    )


def end_sessions_of(session: Session, principal: Principal, teammate_id: int, now: datetime) -> int:
    """An admin signs a teammate out everywhere."""
    require(principal, Action.MANAGE_TEAMMATES)
    if session.get(Teammate, teammate_id) is None:
        raise UnknownTeammate(f"no teammate {teammate_id} in this workspace")
    return end_teammate_sessions(session, teammate_id, now, "ended by an admin")


def generate_password() -> str:
    """A random password a person can type: four groups of five lowercase letters/digits."""
    alphabet = "abcdefghijkmnopqrstuvwxyz23456789"  # no l, 1, 0 to misread
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def issue_password(db: Engine, *, workspace_slug: str, handle: str, now: datetime) -> str:
    """Give a teammate a fresh random password and return it (for `kazi demo` to print,
    and for admins via `kazi teammate password`). Ends the teammate's sessions."""
    workspace_id = workspace_id_for(db, workspace_slug)
    if workspace_id is None:
        raise UnknownTeammate(f"no workspace {workspace_slug!r}")
    password = generate_password()
    with unit_of_work(db, workspace_id) as session:
        set_password(session, find_teammate(session, handle), password, now)
    return password


def reset_password_of(
    session: Session, principal: Principal, teammate_id: int, now: datetime
) -> tuple[Teammate, str]:
    """An admin gives a teammate a new random password (an invite, or a forgotten one);
    the password is returned once to hand over, and the teammate's sessions end."""
    require(principal, Action.MANAGE_TEAMMATES)
    teammate = session.get(Teammate, teammate_id)
    if teammate is None or not teammate.active:
        raise UnknownTeammate(f"no active teammate {teammate_id} in this workspace")
    password = generate_password()
    set_password(session, teammate, password, now)
    return teammate, password
