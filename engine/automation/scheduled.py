"""Delayed rule blocks, run when due: the reducer re-checks the guard against fresh state.

The sweeper enqueues actions that are due; this job claims one with a lease and
steps the conversation with `DelayDue`, under the config in force now, not the
one that scheduled it: a rule removed since does nothing and a changed guard is
the one checked (DESIGN rule 4). Staff may cancel an action before it runs.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from engine.automation.runner import AlreadyApplied, rules_in_force, step_conversation
from engine.automation.state import delay_of
from engine.core.clock import Clock
from engine.core.step import DelayDue
from engine.db import system_session, workspace_session
from engine.jobs.leases import claim
from engine.models import DelayState, ScheduledAction
from engine.workspaces.directory import ConfigDirectory

LEASE = timedelta(minutes=2)


def run_scheduled_action(
    *, action_id: int, db: Engine, clock: Clock, configs: ConfigDirectory
) -> None:
    now = clock.now()
    with system_session(db) as session:
        won = claim(
            session,
            ScheduledAction,
            action_id,
            now=now,
            lease=LEASE,
            ready_state=DelayState.PENDING,
            working_state=DelayState.RUNNING,
        )
        found = session.execute(
            select(ScheduledAction.workspace_id, ScheduledAction.conversation_id).where(
                ScheduledAction.id == action_id
            )
        ).first()
        session.commit()
    if not won or found is None:
        return
    workspace_id, conversation_id = found
    with workspace_session(db, workspace_id) as session:
        action = session.get(ScheduledAction, action_id)
        if action is None or action.state != DelayState.RUNNING:
            return
        if action.due_at > now:  # enqueued early (clock skew between machines): wait
            action.state, action.lease_expires_at = DelayState.PENDING, None
            session.commit()
            return
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None:
            _finish(action, DelayState.FAILED, "no valid config is in force for this workspace")
            session.commit()
            return
        try:
            step_conversation(session, rules, conversation_id, DelayDue(delay_of(action)), now)
        except AlreadyApplied:
            session.rollback()
            with workspace_session(db, workspace_id) as retry:
                again = retry.get(ScheduledAction, action_id)
                if again is not None:
                    _finish(again, DelayState.DONE, "it had run before")
                    retry.commit()
            return
        session.commit()


def _finish(action: ScheduledAction, state: DelayState, outcome: str | None) -> None:
    action.state = state
    action.outcome = outcome
    action.lease_expires_at = None
