"""Which conversation a message belongs to, and one writer per conversation at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import TRANSACTION_BOUND, batch_cache
from engine.models import Conversation, ConversationStatus, WaitingOn

_HELD = f"{TRANSACTION_BOUND}held_conversations"


def _held(session: Session) -> dict[int, Conversation] | None:
    """In a worker's batch: the conversations this transaction holds locked, by id (kept
    referenced, so the identity map answers for them). None outside a batch."""
    cache = batch_cache(session)
    return None if cache is None else cache.setdefault(_HELD, {})


def _hold(session: Session, conversation: Conversation) -> Conversation:
    held = _held(session)
    if held is not None:
        held[conversation.id] = conversation
    return conversation


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _open_conversation(
    session: Session, contact_id: int, business_number: str
) -> Conversation | None:
    """The unresolved conversation; on PostgreSQL locked and read in the same statement."""
    query = select(Conversation).where(
        Conversation.contact_id == contact_id,
        Conversation.business_number == business_number,
        Conversation.status != ConversationStatus.RESOLVED,
    )
    if _postgresql(session):
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def lock_conversation(session: Session, conversation: Conversation) -> Conversation:
    """Hold the conversation's row until the transaction ends (DESIGN rule 5).

    PostgreSQL takes a row lock; SQLite already serialises writers, since every
    Kazi transaction there begins IMMEDIATE.
    """
    held = _held(session)
    if held is not None and conversation.id in held:
        return conversation  # this transaction holds it already
    if _postgresql(session):
        # One round trip: take the lock and reload the row as it is now.
        session.execute(
            select(Conversation)
            .where(Conversation.id == conversation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return _hold(session, conversation)


def locked_conversation(session: Session, conversation_id: int) -> Conversation | None:
    """The conversation, its row held until the transaction ends (DESIGN rule 5), read
    after the lock so what the caller sees is what no one else can change meanwhile."""
    held = _held(session)
    if held is not None and conversation_id in held:
        return held[conversation_id]
    if _postgresql(session):
        found = session.scalars(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
    else:
        found = session.get(Conversation, conversation_id)
    return None if found is None else _hold(session, found)


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
        return _hold(session, conversation), False  # locked as it was read
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
        return _hold(session, conversation), False
