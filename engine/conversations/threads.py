"""Which conversation a message belongs to, and one writer per conversation at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.models import Conversation, ConversationStatus, WaitingOn


def _open_conversation(
    session: Session, contact_id: int, business_number: str
) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.contact_id == contact_id,
            Conversation.business_number == business_number,
            Conversation.status != ConversationStatus.RESOLVED,
        )
    ).first()


def lock_conversation(session: Session, conversation: Conversation) -> Conversation:
    """Hold the conversation's row until the transaction ends (DESIGN rule 5).

    PostgreSQL takes a row lock; SQLite already serialises writers, since every
    Kazi transaction there begins IMMEDIATE.
    """
    if session.get_bind().dialect.name == "postgresql":
        # One round trip: take the lock and reload the row as it is now.
        session.execute(
            select(Conversation)
            .where(Conversation.id == conversation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return conversation


def locked_conversation(session: Session, conversation_id: int) -> Conversation | None:
    """The conversation, its row held until the transaction ends (DESIGN rule 5), read
    after the lock so what the caller sees is what no one else can change meanwhile."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalars(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
    return session.get(Conversation, conversation_id)


def open_or_reuse_conversation(
    session: Session, *, contact_id: int, business_number: str, now: datetime
) -> tuple[Conversation, bool]:
    """The contact's unresolved conversation on this number, locked; a new one if none.

    Returns (conversation, opened_now). The partial unique index makes two
    simultaneous first messages end in one conversation: the loser of the insert
    race reads the winner's row.
    """
    conversation = _open_conversation(session, contact_id, business_number)
    if conversation is not None:
        return lock_conversation(session, conversation), False
    try:
        with session.begin_nested():
            conversation = Conversation(
                contact_id=contact_id,
                business_number=business_number,
                status=ConversationStatus.OPEN,
                waiting_on=WaitingOn.US,
                opened_at=now,
            )
            session.add(conversation)
            session.flush()
        return lock_conversation(session, conversation), True
    except IntegrityError:
        conversation = _open_conversation(session, contact_id, business_number)
        if conversation is None:
            raise
        return lock_conversation(session, conversation), False
