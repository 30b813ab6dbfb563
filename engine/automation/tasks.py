"""'when task due': a task's due time reaching the rules, once, when it is still open."""

from __future__ import annotations

import contextlib

from sqlalchemy import Engine, select

from engine.automation.runner import AlreadyApplied, rules_in_force, step_conversation
from engine.automation.state import db_key
from engine.core.clock import Clock
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import system_session, workspace_session
from engine.models import Task, Teammate
from engine.workspaces.directory import ConfigDirectory


def report_task_due(*, task_id: int, db: Engine, clock: Clock, configs: ConfigDirectory) -> None:
    """The sweeper's job for a task whose due time passed; safe to run twice."""
    now = clock.now()
    with system_session(db) as session:
        workspace_id = session.scalar(select(Task.workspace_id).where(Task.id == task_id))
    if workspace_id is None:
        return
    with workspace_session(db, workspace_id) as session:
        task = session.get(Task, task_id)
        if task is None or task.due_reported_at is not None:
            return
        task.due_reported_at = now  # reported once, done or not, whatever the rules do
        task.enqueued_at = None
        rules = rules_in_force(session, configs, workspace_id)
        if task.done_at is None and task.conversation_id is not None and rules is not None:
            assignee = session.get(Teammate, task.assignee_id) if task.assignee_id else None
            event = DomainEvent(
                TriggerKind.TASK_DUE.value,
                f"task:{task.id}:due",
                now,
                data={
                    "task": {
                        "title": task.title,
                        "assignee": assignee.handle if assignee else None,
                        "due_at": task.due_at,
                        "done": False,
                    }
                },
                subject=db_key(task.business_object_id) if task.business_object_id else None,
            )
            with contextlib.suppress(AlreadyApplied):
                step_conversation(session, rules, task.conversation_id, event, now)
        session.commit()
