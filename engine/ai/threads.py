"""What the AI jobs read from the database: a conversation's thread and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.ai import Author, Thread, ThreadLine
from engine.core.config import WorkspaceConfig
from engine.models import Contact, Conversation, Message, Teammate
from engine.models.states import AuthorKind, Direction

THREAD_MESSAGES = 60  # the newest messages a job reads; older ones rarely change the answer


@dataclass(frozen=True)
class ConversationFacts:
    conversation_id: int
    thread: Thread
    stage: str | None
    pipeline: str | None
    waiting_on: str | None
    last_message_id: int | None
    message_count: int


def local_today(config: WorkspaceConfig, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(config.timezone)).date()
    except (KeyError, ValueError):
        return now.date()


def conversation_facts(
    session: Session, config: WorkspaceConfig, conversation_id: int, now: datetime
) -> ConversationFacts | None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    contact = session.get(Contact, conversation.contact_id)
    rows = session.execute(
        select(
            Message.id,
            Message.direction,
            Message.type,
            Message.body,
            Message.author_kind,
            Teammate.name,
        )
        .outerjoin(Teammate, Teammate.id == Message.author_teammate_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(THREAD_MESSAGES)
    ).all()
    count = session.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == conversation_id)
    )
    lines: list[ThreadLine] = []
    for row in reversed(rows):
        text = row.body if row.body else f"[{row.type}]"
        if row.direction == Direction.INBOUND:
            author = Author.CUSTOMER
        elif row.author_kind == AuthorKind.RULE:
            author = Author.RULE
        else:
            author = Author.AGENT
        lines.append(ThreadLine(author, text, name=row.name))
    name = None
    if contact is not None:
        name = contact.name or contact.profile_name
    return ConversationFacts(
        conversation_id=conversation.id,
        thread=Thread(tuple(lines), name, local_today(config, now)),
        stage=conversation.stage,
        pipeline=conversation.pipeline,
        waiting_on=conversation.waiting_on,
        last_message_id=rows[0].id if rows else None,
        message_count=int(count or 0),
    )
