"""'when task due': a task's due time reaching the rules, once, when it is still open."""

from __future__ import annotations

from sqlalchemy import Engine, select

from engine.automation.runner import rules_in_force, run_event
from engine.conversations.threads import lock_conversation
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
        if task.done_at is None and task.conversation is not None:
            conversation = lock_conversation(session, task.conversation)
            rules = rules_in_force(session, configs, workspace_id)
            if rules is not None:
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
                )
                run_event(session, rules, conversation, event, now)
        session.commit()
