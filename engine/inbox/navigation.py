"""The keyboard's next / previous conversation: the neighbour in a queue's own order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.inbox.lookup import conversation_for
from engine.inbox.queues import Queue, queue_condition
from engine.models import Conversation


def neighbour_in_queue(
    session: Session,
    principal: Principal,
    queue: Queue,
    conversation_id: int,
    now: datetime,
    *,
    backwards: bool = False,
) -> int | None:
    """The conversation after (or before) this one in `queue`, in the order the queue
    lists them; None at the end.

    Works from where this conversation sorts even when it has just left the queue (an
    agent claims from "unassigned", then presses j): one indexed query, no list held.
    """
    current = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    if queue == Queue.RESOLVED:
        # Newest resolved first: "next" goes to older ones.
        key: ColumnElement[datetime] = func.coalesce(
            Conversation.resolved_at, Conversation.opened_at
        )
        value = current.resolved_at or current.opened_at
        forwards = backwards  # the list runs descending
    else:
        key = func.coalesce(Conversation.last_customer_message_at, Conversation.opened_at)
        value = current.last_customer_message_at or current.opened_at
        forwards = not backwards
    if forwards:
        after = or_(key > value, and_(key == value, Conversation.id > current.id))
        order = (key.asc(), Conversation.id.asc())
    else:
        after = or_(key < value, and_(key == value, Conversation.id < current.id))
        order = (key.desc(), Conversation.id.desc())
    return session.scalar(
        select(Conversation.id)
        .where(queue_condition(queue, principal, now), after)
        .order_by(*order)
        .limit(1)
    )
