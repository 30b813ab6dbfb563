"""Loading rows for a principal: always inside their workspace session, always checked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.errors import NotFound
from engine.models import Conversation, Team, Teammate


def conversation_for(
    session: Session, principal: Principal, conversation_id: int, action: Action
) -> Conversation:
    """The conversation, if this principal may do `action` on it.

    The session is the principal's workspace session, so another workspace's id
    is NotFound here, exactly like an id that never existed.
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    require(principal, action, conversation)
    return conversation


def teammate_named(session: Session, teammate_id: int) -> Teammate:
    teammate = session.get(Teammate, teammate_id)
    if teammate is None or not teammate.active:
        raise NotFound(f"no active teammate {teammate_id}")
    return teammate


def team_named(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team


def directory(session: Session) -> tuple[list[Teammate], list[Team]]:
    """Active teammates and all teams, for pickers."""
    teammates = list(
        session.scalars(select(Teammate).where(Teammate.active.is_(True)).order_by(Teammate.name))
    )
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    return teammates, teams
