"""The job that reports an SLA clock reaching its warning or deadline, once.

The sweeper enqueues it when a running clock's `warn_at` or `due_at` passes. The
reducer decides (engine.core.step: ClockDue): it refreshes the clocks first (a reply
may have come meanwhile), then records the warning or breach once and hands it to
the rules as an event. Safe to run twice: a reported clock is not reported again.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from engine.automation.runner import AlreadyApplied, rules_in_force, step_conversation
from engine.core.clock import Clock
from engine.core.step import ClockDue
from engine.db import system_session, workspace_session
from engine.models import SlaClock
from engine.workspaces.directory import ConfigDirectory


def check_clock(*, clock_id: int, db: Engine, clock: Clock, configs: ConfigDirectory) -> None:
    """The sweeper's job for a clock at its warning or deadline; safe to run twice."""
    now = clock.now()
    with system_session(db) as session:
        found = session.execute(
            select(SlaClock.workspace_id, SlaClock.conversation_id, SlaClock.kind).where(
                SlaClock.id == clock_id, SlaClock.stopped_at.is_(None)
            )
        ).first()
    if found is None:
        return
    workspace_id, conversation_id, kind = found
    with workspace_session(db, workspace_id) as session:
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None:
            return
        try:
            step_conversation(session, rules, conversation_id, ClockDue(kind), now)
        except AlreadyApplied:
            session.rollback()
            return
        sla_clock = session.get(SlaClock, clock_id)
        if sla_clock is not None:
            sla_clock.enqueued_at = None
        session.commit()
