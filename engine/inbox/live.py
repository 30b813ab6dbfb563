"""What changed since you last looked: a cheap marker per view, for live updates.

The server-sent events endpoint compares markers every couple of seconds and
tells the browser to refresh when one moves. The marker is read from the
database, so it sees every writer (another server process, a worker applying
WhatsApp statuses, the API) on SQLite and PostgreSQL alike, with no broker to
lose messages when it restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.inbox.lookup import conversation_for
from engine.inbox.queues import queue_counts
from engine.models import (
    AuditLog,
    Conversation,
    ConversationTag,
    Message,
    MessageStatusEvent,
    Note,
    Task,
)
from engine.models.states import Direction


def queue_marker(session: Session, principal: Principal, now: datetime) -> str:
    """Moves when any queue count changes or any message arrives or is sent."""
    counts = queue_counts(session, principal, now)
    newest_message = session.scalar(select(func.max(Message.id)))
    newest_activity = session.scalar(select(func.max(AuditLog.id)))
    return "q:" + ",".join(str(n) for n in counts.values()) + f":{newest_message}:{newest_activity}"


def conversation_marker(session: Session, principal: Principal, conversation_id: int) -> str:
    """Moves when anything on the conversation's page would change."""
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    messages = session.execute(
        select(func.count(Message.id), func.max(Message.id), func.max(MessageStatusEvent.id))
        .select_from(Message)
        .outerjoin(MessageStatusEvent, MessageStatusEvent.message_id == Message.id)
        .where(Message.conversation_id == conversation_id)
    ).one()
    states = ",".join(
        state or "-"
        for state in session.scalars(
            select(Message.delivery_state)
            .where(
                Message.conversation_id == conversation_id, Message.direction == Direction.OUTBOUND
            )
            .order_by(Message.id)
        )
    )
    tags = session.scalars(
        select(ConversationTag.name)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.name)
    ).all()
    extras = [
        tuple(tags),
        session.scalar(select(func.max(Note.id)).where(Note.conversation_id == conversation_id)),
        session.scalar(select(func.max(Task.id)).where(Task.conversation_id == conversation_id)),
        session.scalar(
            select(func.count(Task.done_at)).where(Task.conversation_id == conversation_id)
        ),
        session.scalar(
            select(func.max(AuditLog.id)).where(
                AuditLog.subject_kind == "conversation", AuditLog.subject_id == conversation_id
            )
        ),
    ]
    row = session.execute(
        select(
            Conversation.status, Conversation.owner_id, Conversation.team_id, Conversation.stage
        ).where(Conversation.id == conversation.id)
    ).one()
    return f"c:{tuple(messages)}:{states}:{extras}:{tuple(row)}"
