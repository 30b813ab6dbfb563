"""Who owns a conversation: claim, assign, transfer. Exactly one owner at a time.

Every change is one conditional UPDATE ("... WHERE owner is still who I saw"),
so two people acting at once cannot both win: the database lets one update the
row and the other finds it changed and is told by whom.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.lookup import conversation_for, team_named, teammate_named
from engine.models import AuthorKind, Conversation, Note, Teammate

_UNSET: Any = object()


def _owner_name(session: Session, owner_id: int | None) -> str:
    if owner_id is None:
        return "nobody"
    teammate = session.get(Teammate, owner_id)
    return teammate.name if teammate else "someone"


def _swap_owner(
    session: Session,
    conversation: Conversation,
    *,
    expected_owner_id: int | None,
    new_owner_id: int | None,
    team_id: int | None = _UNSET,
) -> None:
    """Set the owner only if it is still `expected_owner_id`; else Conflict naming who has it."""
    condition = (
        Conversation.owner_id.is_(None)
        if expected_owner_id is None
        else Conversation.owner_id == expected_owner_id
    )
    values: dict[str, Any] = {"owner_id": new_owner_id}
    if team_id is not _UNSET:
        values["team_id"] = team_id
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    session.refresh(conversation)
    if result.rowcount != 1:
        raise Conflict(
            f"{_owner_name(session, conversation.owner_id)} owns this conversation now; "
            "reload to see the latest"
        )


def claim(
    session: Session, principal: Principal, conversation_id: int, now: datetime
) -> Conversation:
    """Take an unowned conversation. Loses cleanly (Conflict naming the owner) if it is
    owned already or someone else is faster; taking over an owned one is `assign`."""
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    if principal.teammate_id is not None and conversation.owner_id == principal.teammate_id:
        return conversation
    if conversation.owner_id is not None:
        raise Conflict(
            f"{_owner_name(session, conversation.owner_id)} already owns this conversation"
        )
    require(principal, Action.CLAIM, conversation)
    _swap_owner(session, conversation, expected_owner_id=None, new_owner_id=principal.teammate_id)
    record(
        session,
        principal,
        "claim",
        subject_kind="conversation",
        subject_id=conversation.id,
        now=now,
    )
    return conversation


def assign(
    session: Session,
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
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    self_claim = teammate_id is not None and teammate_id == principal.teammate_id
    if self_claim and conversation.owner_id is None:
        require(principal, Action.CLAIM, conversation)
    elif conversation.owner_id is not None and conversation.owner_id == principal.teammate_id:
        require(principal, Action.TRANSFER, conversation)
    else:
        require(principal, Action.ASSIGN, conversation)
    if teammate_id is not None:
        teammate_named(session, teammate_id)
    if team_id is not None:
        team_named(session, team_id)
    if teammate_id is None and team_id is None and note:
        raise InvalidInput("choose a teammate or a team to transfer to")
    previous_owner = conversation.owner_id
    _swap_owner(
        session,
        conversation,
        expected_owner_id=expected_owner_id,
        new_owner_id=teammate_id,
        team_id=team_id if team_id is not None else conversation.team_id,
    )
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
    record(
        session,
        principal,
        "assign",
        subject_kind="conversation",
        subject_id=conversation.id,
        now=now,
        from_owner_id=previous_owner,
        to_owner_id=teammate_id,
        team_id=team_id,
    )
    session.flush()
    return conversation
