"""Domain events through the rule graph, inside the transaction that caused them.

For each event: route a conversation that just opened, evaluate the graph in
memory, and carry out each fired rule's effects. A rule fires once per
(rule, triggering event), recorded in `rule_firings` under a unique key, so a
redelivered event or a re-run job cannot fire it twice (DESIGN rule 7). Effects
that change the record produce follow-on events, evaluated in turn, with two
brakes on loops: a depth limit per event and a per-hour limit per rule and
conversation, which stops the rule and tells the managers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.automation.effects import EffectContext, apply_effect
from engine.automation.routing import route
from engine.automation.snapshot import conversation_snapshot
from engine.conversations.events import ConversationEvent
from engine.core.config import WorkspaceConfig
from engine.core.rules import effects as fx
from engine.core.rules.evaluate import evaluate
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.rules.graph import RuleGraph
from engine.models import (
    AuditLog,
    ConfigVersion,
    Conversation,
    Note,
    RuleFiring,
    StageHistory,
    Workspace,
)
from engine.workspaces.directory import ConfigDirectory

logger = logging.getLogger(__name__)

MAX_CASCADE = 25
FIRINGS_PER_RULE_PER_HOUR = 30


@dataclass(frozen=True)
class RulesInForce:
    graph: RuleGraph
    config: WorkspaceConfig
    config_version_id: int | None


def rules_in_force(
    session: Session, configs: ConfigDirectory, workspace_id: int
) -> RulesInForce | None:
    """The compiled config the database says is in force for this workspace."""
    slug = session.scalar(select(Workspace.slug).where(Workspace.id == workspace_id))
    if slug is None:
        return None
    active = session.execute(
        select(ConfigVersion.id, ConfigVersion.hash).where(ConfigVersion.active.is_(True))
    ).first()
    if active is None:
        compiled = configs.compiled(slug)
    else:
        # The files are read only when this process's copy is of another version.
        def stored_files() -> dict[str, str]:
            summary = session.scalar(
                select(ConfigVersion.source_summary).where(ConfigVersion.id == active.id)
            )
            return dict((summary or {}).get("files") or {})

        compiled = configs.compiled(slug, active.hash, stored_files)
    if compiled is None or compiled.graph is None or compiled.config is None:
        return None
    version_id = active.id if active is not None and active.hash == compiled.version else None
    return RulesInForce(compiled.graph, compiled.config, version_id)


def run_events(
    session: Session, rules: RulesInForce, events: Sequence[ConversationEvent], now: datetime
) -> None:
    for item in events:
        conversation = session.get(Conversation, item.conversation_id)
        if conversation is not None:
            run_event(session, rules, conversation, item.event, now)


def run_event(
    session: Session,
    rules: RulesInForce,
    conversation: Conversation,
    event: DomainEvent,
    now: datetime,
    depth: int = 0,
) -> None:
    if depth > MAX_CASCADE:
        _stop(
            session,
            rules,
            conversation,
            event.caused_by or "?",
            "rules keep triggering each other",
            now,
        )
        return
    follow_ups: list[DomainEvent] = []
    if event.kind == TriggerKind.CONVERSATION_OPENED:
        follow_ups = _start(session, rules, conversation, event, now)
    snapshot = conversation_snapshot(session, conversation, rules.config)
    evaluation = evaluate(rules.graph, event, snapshot, now)
    for rule, effects in _by_rule(evaluation.effects):
        if not record_firing(session, rules, conversation, rule, event, now, effects):
            continue
        context = EffectContext(
            session=session,
            graph=rules.graph,
            config=rules.config,
            config_version_id=rules.config_version_id,
            conversation=conversation,
            trigger=event,
            now=now,
        )
        for position, effect in enumerate(effects):
            for follow in apply_effect(context, effect, position):
                run_event(session, rules, conversation, follow, now, depth + 1)
    for follow in follow_ups:
        run_event(session, rules, conversation, follow, now, depth + 1)


def _by_rule(effects: Sequence[fx.Effect]) -> list[tuple[str, list[fx.Effect]]]:
    grouped: dict[str, list[fx.Effect]] = {}
    for effect in effects:
        grouped.setdefault(effect.rule, []).append(effect)
    return list(grouped.items())


def trigger_key(conversation_id: int, event_id: str) -> str:
    """`c<conversation>:<event>`; hashed when long, so the unique key always fits."""
    key = f"c{conversation_id}:{event_id}"
    if len(key) <= 255:
        return key
    return f"c{conversation_id}:sha256:{hashlib.sha256(event_id.encode()).hexdigest()}"


def record_firing(
    session: Session,
    rules: RulesInForce,
    conversation: Conversation,
    rule: str,
    event: DomainEvent,
    now: datetime,
    effects: Sequence[fx.Effect] = (),
) -> bool:
    """True when this is the rule's first firing for the event and it may go ahead.

    The firing keeps what the rule decided to do, so the conversation's history can
    say which rule did what and why (the event that set it off)."""
    recent = session.scalar(
        select(func.count())
        .select_from(RuleFiring)
        .where(
            RuleFiring.conversation_id == conversation.id,
            RuleFiring.rule_name == rule,
            RuleFiring.fired_at > now - timedelta(hours=1),
            RuleFiring.outcome == "fired",
        )
    )
    outcome = "fired" if (recent or 0) < FIRINGS_PER_RULE_PER_HOUR else "stopped"
    try:
        with session.begin_nested():
            session.add(
                RuleFiring(
                    rule_name=rule,
                    trigger_key=trigger_key(conversation.id, event.id),
                    conversation_id=conversation.id,
                    outcome=outcome,
                    detail={
                        "event": event.kind,
                        "key": event.key,
                        "caused_by": event.caused_by,
                        "actions": [fx.effect_to_json(effect) for effect in effects],
                    },
                    config_version_id=rules.config_version_id,
                    fired_at=now,
                )
            )
    except IntegrityError:
        return False  # it already fired for this event
    if outcome == "stopped":
        _stop(session, rules, conversation, rule, f"fired {recent} times in the last hour", now)
        return False
    return True


def _stop(
    session: Session,
    rules: RulesInForce,
    conversation: Conversation,
    rule: str,
    why: str,
    now: datetime,
) -> None:
    logger.warning("rule %r stopped on conversation %s: %s", rule, conversation.id, why)
    session.add(
        AuditLog(
            actor_kind="system",
            action="rule_stopped",
            subject_kind="conversation",
            subject_id=conversation.id,
            detail={"rule": rule, "why": why},
            config_version_id=rules.config_version_id,
            at=now,
        )
    )
    session.add(
        Note(
            conversation_id=conversation.id,
            body=f"Automation '{rule}' was stopped here: {why}. A manager should check the rule.",
            author_kind="rule",
            author_rule=rule,
            created_at=now,
        )
    )


def _start(
    session: Session,
    rules: RulesInForce,
    conversation: Conversation,
    event: DomainEvent,
    now: datetime,
) -> list[DomainEvent]:
    """A conversation just opened: put it at the start of the workspace's conversation
    pipeline and give it an owner by routing.yaml. Returns the stage-entered event."""
    follow_ups: list[DomainEvent] = []
    pipeline = rules.config.starting_pipeline(conversation.business_number)
    if pipeline is not None and conversation.stage is None:
        conversation.pipeline, conversation.stage = pipeline.name, pipeline.initial
        session.add(
            StageHistory(
                subject_kind="conversation",
                subject_id=conversation.id,
                pipeline=pipeline.name,
                from_stage=None,
                to_stage=pipeline.initial,
                actor_kind="system",
                config_version_id=rules.config_version_id,
                at=now,
            )
        )
        follow_ups.append(
            DomainEvent(
                TriggerKind.STAGE_ENTERED.value,
                f"{event.id}>stage_entered:{pipeline.initial}",
                now,
                key=pipeline.initial,
                data={"pipeline": pipeline.name},
            )
        )
    if conversation.owner_id is None and conversation.team_id is None:
        snapshot = conversation_snapshot(session, conversation, rules.config)
        decision = route(session, rules.graph, conversation, event, snapshot, now)
        if decision is not None:
            conversation.team_id = decision.team_id
            conversation.owner_id = decision.owner_id
            session.add(
                AuditLog(
                    actor_kind="system",
                    action="route",
                    subject_kind="conversation",
                    subject_id=conversation.id,
                    detail={"routing_rule": decision.rule, "owner_id": decision.owner_id},
                    config_version_id=rules.config_version_id,
                    at=now,
                )
            )
    session.flush()
    return follow_ups
