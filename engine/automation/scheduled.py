"""Delayed rule blocks, run when due: re-read the conversation, re-check the guard, act.

The sweeper enqueues actions that are due; this job claims one with a lease and
runs it against the config in force now, not the one that scheduled it, so a
rule removed since does nothing and a changed guard is the one checked. Staff
may cancel an action before it runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.automation.effects import EffectContext, apply_effect
from engine.automation.runner import record_firing, rules_in_force, run_event
from engine.automation.snapshot import conversation_snapshot
from engine.conversations.threads import lock_conversation
from engine.core.clock import Clock
from engine.core.rules import effects as fx
from engine.core.rules.evaluate import resume
from engine.core.rules.events import DomainEvent
from engine.db import system_session, workspace_session
from engine.jobs.leases import claim
from engine.models import ScheduledAction
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
            ready_state="pending",
            working_state="running",
        )
        workspace_id = session.scalar(
            select(ScheduledAction.workspace_id).where(ScheduledAction.id == action_id)
        )
        session.commit()
    if not won or workspace_id is None:
        return
    with workspace_session(db, workspace_id) as session:
        action = session.get(ScheduledAction, action_id)
        if action is None or action.state != "running":
            return
        if action.due_at > now:  # enqueued early (clock skew between machines): wait
            action.state, action.lease_expires_at = "pending", None
            session.commit()
            return
        conversation = lock_conversation(session, action.conversation)
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None:
            _finish(action, "failed", "no valid config is in force for this workspace", now)
            session.commit()
            return
        scheduled = fx.ScheduleDelayed(
            rule=action.rule_name,
            block=action.block,
            due_at=action.due_at,
            scheduled_at=action.scheduled_at,
            event_id=action.trigger_event_id,
            stage=action.stage_at_schedule,
            status=action.status_at_schedule,
            guard=action.guard_text,
        )
        outcome = resume(
            rules.graph,
            scheduled,
            conversation_snapshot(session, conversation, rules.config),
            now,
            trace=True,
        )
        if not outcome.effects:
            reason = (outcome.trace[0].failed or outcome.trace[0].reason) if outcome.trace else None
            _finish(action, "skipped", reason or "nothing to do", now)
            session.commit()
            return
        trigger = DomainEvent("scheduled", f"{action.trigger_event_id}#after{action.block}", now)
        if record_firing(
            session, rules, conversation, action.rule_name, trigger, now, outcome.effects
        ):
            context = EffectContext(
                session=session,
                graph=rules.graph,
                config=rules.config,
                config_version_id=rules.config_version_id,
                conversation=conversation,
                trigger=trigger,
                now=now,
            )
            for position, effect in enumerate(outcome.effects):
                for follow in apply_effect(context, effect, position):
                    run_event(session, rules, conversation, follow, now, 1)
        _finish(action, "done", None, now)
        session.commit()


def _finish(action: ScheduledAction, state: str, outcome: str | None, now: datetime) -> None:
    action.state = state
    action.outcome = outcome
    action.finished_at = now
    action.lease_expires_at = None


def cancel_scheduled_action(
    session: Session, action_id: int, teammate_id: int | None, now: datetime
) -> bool:
    """Staff cancelled a pending action; False when it already ran or was cancelled."""
    action = session.get(ScheduledAction, action_id)
    if action is None or action.state != "pending":
        return False
    action.state = "cancelled"
    action.cancelled_by_id = teammate_id
    action.finished_at = now
    session.flush()
    return True
