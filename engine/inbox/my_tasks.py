"""My tasks: the signed-in teammate's open tasks across every conversation, what is overdue
or due today first (in the workspace's time zone), then what is due later, then the rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.auth.principal import Principal
from engine.inbox.errors import InvalidInput
from engine.inbox.queues import display_name
from engine.models import BusinessObject, Contact, Conversation, Task

LIMIT = 500


class When:
    OVERDUE = "overdue"
    TODAY = "today"
    LATER = "later"
    UNDATED = "no due date"


@dataclass(frozen=True)
class MyTask:
    id: int
    title: str
    due_at: datetime | None
    when: str  # a `When`
    conversation_id: int | None
    customer: str | None
    object_kind: str | None
    object_reference: str | None
    created_at: datetime


def my_tasks(session: Session, principal: Principal, now: datetime, timezone: str) -> list[MyTask]:
    """The signed-in teammate's open tasks, most pressing first."""
    if principal.teammate_id is None:
        raise InvalidInput("an API token is nobody: ask for a teammate's tasks by their id")
    return tasks_of(session, principal.teammate_id, now, timezone)


def tasks_of(session: Session, teammate_id: int, now: datetime, timezone: str) -> list[MyTask]:
    """A teammate's open tasks across conversations: overdue, then due today (in the
    workspace's time zone), then later, then those without a due date."""
    zone = _zone(timezone)
    local = now.astimezone(zone)
    end_of_today = datetime.combine(local.date() + timedelta(days=1), time(), zone)
    subject = aliased(BusinessObject)
    rows = session.execute(
        select(Task, Conversation.id, Contact, subject.kind, subject.external_ref)
        .outerjoin(Conversation, Conversation.id == Task.conversation_id)
        .outerjoin(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(subject, subject.id == Task.business_object_id)
        .where(Task.assignee_id == teammate_id, Task.done_at.is_(None))
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .limit(LIMIT)
    ).tuples()
    found = [
        MyTask(
            id=task.id,
            title=task.title,
            due_at=task.due_at,
            when=_when(task.due_at, now, end_of_today),
            conversation_id=conversation_id,
            customer=display_name(contact) if contact is not None else None,
            object_kind=kind,
            object_reference=reference,
            created_at=task.created_at,
        )
        for task, conversation_id, contact, kind, reference in rows
    ]
    order = {When.OVERDUE: 0, When.TODAY: 1, When.LATER: 2, When.UNDATED: 3}
    return sorted(found, key=lambda t: (order[t.when], t.due_at or t.created_at, t.id))


def _when(due: datetime | None, now: datetime, end_of_today: datetime) -> str:
    if due is None:
        return When.UNDATED
    if due < now:
        return When.OVERDUE
    if due < end_of_today:
        return When.TODAY
    return When.LATER


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
