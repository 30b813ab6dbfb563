"""Working a conversation without leaving it: notes, status, snooze, tags, tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, may
from engine.auth.principal import Principal
from engine.auth.sessions import teammate_principal
from engine.automation.staff import Desk
from engine.automation.state import db_key
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import InvalidInput, NotFound
from engine.inbox.lookup import conversation_for, teammate_named
from engine.inbox.mentions import mentioned_handles
from engine.models import (
    AuthorKind,
    ConversationStatus,
    Note,
    Notification,
    ScheduledAction,
    Task,
    Teammate,
)

MAX_NOTE = 4000
MAX_TASK_TITLE = 300
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,63}$")
# What staff may set by hand; "snoozed" goes through `snooze` with a time.
SETTABLE_STATUSES = frozenset(
    {
        ConversationStatus.OPEN,
        ConversationStatus.WAITING_ON_US,
        ConversationStatus.WAITING_ON_CUSTOMER,
        ConversationStatus.RESOLVED,
    }
)


@dataclass(frozen=True)
class NoteAdded:
    """The note, who its @mentions notified, and who they could not (with why)."""

    note: Note
    notified: tuple[str, ...] = ()
    not_notified: tuple[tuple[str, str], ...] = ()  # (handle, why not)


def add_note(
    desk: Desk, principal: Principal, conversation_id: int, body: str, now: datetime
) -> NoteAdded:
    """Write an internal note; each teammate it @mentions who may see the conversation
    gets an in-app notification linking to it."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.ADD_NOTE)
    text = body.strip()
    if not text:
        raise InvalidInput("a note needs some text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note may have at most {MAX_NOTE} characters")
    note = Note(
        conversation_id=conversation.id,
        body=text,
        author_kind=AuthorKind.TEAMMATE,
        author_teammate_id=principal.teammate_id,
        author_rule=None if principal.is_teammate else principal.name,
        created_at=now,
    )
    session.add(note)
    session.flush()
    teammates = {t.handle.lower(): t for t in session.scalars(select(Teammate))}
    author = next((h for h, t in teammates.items() if t.id == principal.teammate_id), None)
    notified: list[str] = []
    not_notified: list[tuple[str, str]] = []
    for handle in mentioned_handles(text, teammates, author):
        teammate = teammates[handle]
        if not teammate.active:
            not_notified.append((handle, f"{teammate.name} is no longer an active teammate"))
            continue
        if not may(teammate_principal(session, teammate), Action.VIEW_CONVERSATION, conversation):
            not_notified.append((handle, f"{teammate.name} may not see this conversation"))
            continue
        session.add(
            Notification(
                teammate_id=teammate.id,
                conversation_id=conversation.id,
                text=f"{principal.name} mentioned you in a note: {_excerpt(text)}",
                source=principal.name,
                created_at=now,
            )
        )
        notified.append(handle)
    session.flush()
    return NoteAdded(note, tuple(notified), tuple(not_notified))


def _excerpt(text: str, limit: int = 140) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def set_status(
    desk: Desk, principal: Principal, conversation_id: int, status: str, now: datetime
) -> None:
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    try:
        wanted = ConversationStatus(status)
    except ValueError:
        raise InvalidInput(f"unknown status {status!r}") from None
    if wanted not in SETTABLE_STATUSES:
        raise InvalidInput("to snooze, give a time to snooze until")
    effect = fx.SetField("", owner="conversation", field="status", value=wanted.value)
    desk.change(conversation.id, actor_of(principal), [effect], now)


def snooze(
    desk: Desk, principal: Principal, conversation_id: int, until: datetime, now: datetime
) -> None:
    """Put the conversation aside until `until`; a customer message wakes it earlier."""
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    if until.tzinfo is None:
        raise InvalidInput("snooze until needs a time zone")
    desk.change(conversation.id, actor_of(principal), [fx.Snooze("", until=until)], now)


def normalise_tag(name: str) -> str:
    tag = " ".join(name.strip().lower().split())
    if not TAG_PATTERN.match(tag):
        raise InvalidInput(
            "a tag is 1 to 64 letters, digits, spaces, '-' or '_', starting with a letter or digit"
        )
    return tag


def add_tag(
    desk: Desk, principal: Principal, conversation_id: int, name: str, now: datetime
) -> str:
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    tag = normalise_tag(name)
    desk.change(conversation.id, actor_of(principal), [fx.AddTag("", tag=tag)], now)
    return tag


def remove_tag(
    desk: Desk, principal: Principal, conversation_id: int, name: str, now: datetime
) -> None:
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    tag = " ".join(name.strip().lower().split())
    desk.change(conversation.id, actor_of(principal), [fx.RemoveTag("", tag=tag)], now)


def create_task(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    *,
    title: str,
    due_at: datetime | None,
    assignee_id: int | None,
    now: datetime,
) -> Task:
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.CREATE_TASK)
    text = title.strip()
    if not text:
        raise InvalidInput("a task needs a title")
    if len(text) > MAX_TASK_TITLE:
        raise InvalidInput(f"a task title may have at most {MAX_TASK_TITLE} characters")
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInput("a due time needs a time zone")
    if assignee_id is not None:
        teammate_named(session, assignee_id)
    task = Task(
        title=text,
        due_at=due_at,
        assignee_id=assignee_id if assignee_id is not None else principal.teammate_id,
        conversation_id=conversation.id,
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task


def complete_task(session: Session, principal: Principal, task_id: int, now: datetime) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.conversation_id is not None:
        conversation_for(session, principal, task.conversation_id, Action.CREATE_TASK)
    if task.done_at is None:
        task.done_at = now
        session.flush()
    return task


def cancel_scheduled(
    desk: Desk, principal: Principal, conversation_id: int, action_id: int, now: datetime
) -> None:
    """Staff stop a rule's delayed follow-up on this conversation before it runs."""
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    action = desk.session.get(ScheduledAction, action_id)
    if action is None or action.conversation_id != conversation.id:
        raise NotFound("that scheduled action is not on this conversation")
    effect = fx.CancelDelay("", delay=db_key(action.id))
    desk.change(conversation.id, actor_of(principal), [effect], now)
