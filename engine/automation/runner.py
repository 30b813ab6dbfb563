"""The engine around `step`: lock the conversation, load its state, step, persist the outcome.

Every path that changes a conversation goes through `step_conversation`: inbound
events, delayed blocks, SLA deadlines, due tasks, scheduled rules and staff
actions. A rule fires once per (rule, triggering event): the firing is stored
under a unique key, and when that key already exists (a redelivered event, a job
run twice) the whole step is rolled back as already applied (DESIGN rule 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.automation.persist import Persisted, persist
from engine.automation.state import load_directory, load_states
from engine.conversations.events import ConversationEvent
from engine.conversations.tallies import refresh_conversation
from engine.conversations.threads import locked_conversation
from engine.core.config import WorkspaceConfig
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.rules.graph import RuleGraph
from engine.core.step import Command, Input, Outcome, Refusal, step
from engine.db import all_or_nothing, batch_cache
from engine.models import ConfigVersion, Workspace
from engine.observability import observed_rule_evaluation
from engine.workspaces.directory import ConfigDirectory


@dataclass(frozen=True)
class RulesInForce:
    graph: RuleGraph
    config: WorkspaceConfig
    config_version_id: int | None


def rules_in_force(
    session: Session, configs: ConfigDirectory, workspace_id: int
) -> RulesInForce | None:
    """The compiled config the database says is in force for this workspace."""
    cache = batch_cache(session)
    key = f"rules_in_force:{workspace_id}"
    if cache is not None and key in cache:
        return cast(RulesInForce | None, cache[key])
    found = _rules_in_force(session, configs, workspace_id)
    if cache is not None:
        cache[key] = found
    return found


def _rules_in_force(
    session: Session, configs: ConfigDirectory, workspace_id: int
) -> RulesInForce | None:
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


def no_rules() -> RulesInForce:
    """What a workspace without a valid config runs on: the record still changes as events
    and people say (a message opens the 24-hour window, a resolve resolves), no rule acts."""
    config = WorkspaceConfig.empty()
    return RulesInForce(RuleGraph.empty(config), config, None)


class AlreadyApplied(Exception):
    """The step's firings are stored already: this input was applied before."""


class StepConflict(Exception):
    """What the step decided collides with the database (another open conversation for
    this customer and number when reopening one, say). Nothing was written."""


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    persisted: Persisted | None  # None when refused or already applied

    @property
    def refused(self) -> Refusal | None:
        return self.outcome.refused


@observed_rule_evaluation
def step_conversation(
    session: Session, rules: RulesInForce, conversation_id: int, input: Input, now: datetime
) -> Applied | None:
    """Lock, load, step, persist. None when the conversation does not exist.

    A refused command writes nothing and says why; an input whose firings were already
    recorded writes nothing either (raises AlreadyApplied, caught by the callers that
    expect redelivery)."""
    conversation = locked_conversation(session, conversation_id)
    if conversation is None:
        return None
    directory = load_directory(session)
    routing = _may_route(input, rules.graph)
    states = load_states(session, [conversation_id], rules.config, now, directory, routing)
    before = states[conversation_id]
    outcome = step(before, input, rules.graph, now)
    if outcome.refused is not None:
        return Applied(outcome, None)
    if all_or_nothing(session):
        # A worker's batch: any error rolls it all back and it is done again with a
        # savepoint per event, where a step that was applied before is told apart.
        persisted = persist(
            session, conversation, before, outcome, directory, rules.config_version_id, now
        )
        refresh_conversation(session, conversation, rules.graph.calendar)
        return Applied(outcome, persisted)
    try:
        with session.begin_nested():
            persisted = persist(
                session, conversation, before, outcome, directory, rules.config_version_id, now
            )
    except IntegrityError as error:
        if "rule_firings" in str(error.orig):
            raise AlreadyApplied(str(input)) from None
        raise StepConflict(str(error.orig)) from None
    refresh_conversation(session, conversation, rules.graph.calendar)  # the report tallies
    return Applied(outcome, persisted)


def _may_route(input: Input, graph: RuleGraph) -> bool:
    """Choosing an owner needs everyone's load: loaded only when routing can happen."""
    if isinstance(input, DomainEvent) and input.kind == TriggerKind.CONVERSATION_OPENED:
        return True
    if isinstance(input, Command) and any(type(e).__name__ == "Route" for e in input.effects):
        return True
    return graph_routes(graph)


def graph_routes(graph: RuleGraph) -> bool:
    return any(
        action.kind == "route"
        for rule in graph.rules
        for block in rule.blocks
        for action in block.actions
    )


def run_events(
    session: Session, rules: RulesInForce, events: Sequence[ConversationEvent], now: datetime
) -> list[Applied | None]:
    """Domain events from inbound processing, each through its conversation, in order.

    Returns what each event did, in the same order (None: no such conversation, or the
    event was applied before)."""
    results: list[Applied | None] = []
    for item in events:
        try:
            results.append(step_conversation(session, rules, item.conversation_id, item.event, now))
        except AlreadyApplied:
            results.append(None)
    return results
