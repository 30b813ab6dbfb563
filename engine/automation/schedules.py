"""Scheduled rules ("when every day at 08:30"): run once per occurrence, across workers.

A thread in each worker looks every few seconds for scheduled rules whose time
has come in the workspace's timezone. The first worker to insert the rule's
marker firing for that occurrence runs it; the rule is then evaluated for each
open conversation in a transaction of its own, and each conversation's firing
is recorded under its own key, so a run cut short and started again skips the
conversations already done. A run that has been "running" for long (its worker
died) is picked up again by any worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from engine.automation.runner import AlreadyApplied, rules_in_force, step_conversation
from engine.core.clock import Clock
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.schedules import latest_occurrence
from engine.db import system_session, workspace_session
from engine.jobs.periodic import PeriodicThread
from engine.models import Conversation, RuleFiring, Workspace
from engine.models.states import ConversationStatus
from engine.workspaces.directory import ConfigDirectory

logger = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=5)
CATCH_UP = timedelta(minutes=30)  # an occurrence missed while no worker ran still runs
STALE_RUN = timedelta(minutes=10)


def run_due_schedules(db: Engine, configs: ConfigDirectory, now: datetime) -> int:
    """Run every scheduled rule occurrence that is due and not yet run; how many ran."""
    with system_session(db) as session:
        workspace_ids = list(session.scalars(select(Workspace.id)))
    ran = 0
    for workspace_id in workspace_ids:
        for rule_name, occurrence in _due(db, configs, workspace_id, now):
            if _claim(db, workspace_id, rule_name, occurrence, now):
                _run(db, configs, workspace_id, rule_name, occurrence, now)
                ran += 1
    return ran


def _due(
    db: Engine, configs: ConfigDirectory, workspace_id: int, now: datetime
) -> list[tuple[str, datetime]]:
    with workspace_session(db, workspace_id) as session:
        rules = rules_in_force(session, configs, workspace_id)
    if rules is None:
        return []
    zone = rules.graph.calendar.local(now).tzinfo
    assert zone is not None
    due = []
    for rule in rules.graph.rules:
        if rule.schedule is None:
            continue
        occurrence = latest_occurrence(rule.schedule.days, rule.schedule.at, zone, now, CATCH_UP)
        if occurrence is not None:
            due.append((rule.name, occurrence))
    return due


def _marker(occurrence: datetime) -> str:
    return f"schedule:{occurrence.isoformat()}"


def _claim(db: Engine, workspace_id: int, rule: str, occurrence: datetime, now: datetime) -> bool:
    with workspace_session(db, workspace_id) as session:
        try:
            session.add(
                RuleFiring(
                    rule_name=rule,
                    trigger_key=_marker(occurrence),
                    outcome="running",
                    detail={"occurrence": occurrence.isoformat()},
                    fired_at=now,
                )
            )
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
        # Already claimed: take it over only if its worker has been silent too long.
        taken = session.execute(
            update(RuleFiring)
            .where(
                RuleFiring.rule_name == rule,
                RuleFiring.trigger_key == _marker(occurrence),
                RuleFiring.outcome == "running",
                RuleFiring.fired_at < now - STALE_RUN,
            )
            .values(fired_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def _run(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    rule: str,
    occurrence: datetime,
    now: datetime,
) -> None:
    with workspace_session(db, workspace_id) as session:
        open_ids = list(
            session.scalars(
                select(Conversation.id)
                .where(Conversation.status != ConversationStatus.RESOLVED)
                .order_by(Conversation.id)
            )
        )
    event_id = f"schedule:{rule}:{occurrence.isoformat()}"
    for conversation_id in open_ids:
        with workspace_session(db, workspace_id) as session:
            rules = rules_in_force(session, configs, workspace_id)
            if rules is None:
                continue
            tick = DomainEvent(TriggerKind.SCHEDULE.value, event_id, now, key=rule)
            try:
                step_conversation(session, rules, conversation_id, tick, now)
            except AlreadyApplied:
                continue  # a run cut short: this conversation was done before
            session.commit()
    with workspace_session(db, workspace_id) as session:
        session.execute(
            update(RuleFiring)
            .where(RuleFiring.rule_name == rule, RuleFiring.trigger_key == _marker(occurrence))
            .values(outcome="done")
            .execution_options(synchronize_session=False)
        )
        session.commit()


def schedules_thread(db: Engine, configs: ConfigDirectory, clock: Clock) -> PeriodicThread:
    def look() -> None:
        ran = run_due_schedules(db, configs, clock.now())
        if ran:
            logger.info("ran %d scheduled rule occurrence(s)", ran)

    return PeriodicThread("kazi-schedules", look, INTERVAL)
