"""Who owns a conversation: claim, assign, transfer. Exactly one owner at a time.

Every change runs at a Desk, with the conversation's row already locked: what the
person saw ("nobody owns it", "Faith owns it") is checked against the row as it is
under the lock, so two people acting at once cannot both win; the second is told
who was faster. The change itself is the reducer's (an Assign effect), so rules
and SLA clocks see it like any other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.lookup import conversation_for, team_named, teammate_named
from engine.models import AuthorKind, Conversation, Note, Teammate


def _owner_name(session: Session, owner_id: int | None) -> str:
    if owner_id is None:
        return "nobody"
    teammate = session.get(Teammate, owner_id)
    return teammate.name if teammate else "someone"


def claim(desk: Desk, principal: Principal, conversation_id: int, now: datetime) -> Conversation:
    """Take an unowned conversation. Loses cleanly (Conflict naming the owner) if it is
    owned already or someone else was faster; taking over an owned one is `assign`."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    if principal.teammate_id is not None and conversation.owner_id == principal.teammate_id:
        return conversation
    if conversation.owner_id is not None:
        raise Conflict(
            f"{_owner_name(session, conversation.owner_id)} already owns this conversation"
        )
    require(principal, Action.CLAIM, conversation)
    me = teammate_named(session, principal.teammate_id) if principal.teammate_id else None
    if me is None:
        raise InvalidInput("only a teammate can claim a conversation")
    desk.change(
        conversation.id, actor_of(principal), [fx.Assign("", teammate=me.handle, claim=True)], now
    )
    return conversation


def assign(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    *,
    expected_owner_id: int | None,
    teammate_id: int | None = None,
    team_id: int | None = None,
    note: str | None = None,
    now: datetime,
) -> Conversation:
    """Give the conversation to a teammate and/or a team (None, None: back to unassigned).

    `expected_owner_id` is the owner the person saw when they chose; if it changed
    meanwhile the assignment is refused rather than silently overriding someone.
    Agents may only hand over their own conversations (a transfer); managers may
    assign any. An optional note is kept on the conversation for the new owner.
    """
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    self_claim = teammate_id is not None and teammate_id == principal.teammate_id
    if self_claim and conversation.owner_id is None:
        require(principal, Action.CLAIM, conversation)
    elif conversation.owner_id is not None and conversation.owner_id == principal.teammate_id:
        require(principal, Action.TRANSFER, conversation)
    else:
        require(principal, Action.ASSIGN, conversation)
    teammate = teammate_named(session, teammate_id) if teammate_id is not None else None
    team = team_named(session, team_id) if team_id is not None else None
    if teammate_id is None and team_id is None and note:
        raise InvalidInput("choose a teammate or a team to transfer to")
    if conversation.owner_id != expected_owner_id:
        raise Conflict(
            f"{_owner_name(session, conversation.owner_id)} owns this conversation now; "
            "reload to see the latest"
        )
    seen = teammate_named(session, expected_owner_id) if expected_owner_id is not None else None
    effect = fx.Assign(
        "",
        teammate=teammate.handle if teammate else None,
        team=team.handle if team else None,
        unassign=teammate is None,
        claim=self_claim and conversation.owner_id is None,
        check_owner=True,  # checked again under the conversation's lock, by the reducer
        expected_owner=seen.handle if seen else None,
    )
    desk.change(conversation.id, actor_of(principal), [effect], now)
    text = (note or "").strip()
    if text:
        session.add(
            Note(
                conversation_id=conversation.id,
                body=text[:4000],
                author_kind=AuthorKind.TEAMMATE,
                author_teammate_id=principal.teammate_id,
                created_at=now,
            )
        )
        session.flush()
    return conversation
