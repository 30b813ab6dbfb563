"""Staff actions enter the engine like everything else (DESIGN: the flow).

A page or API action works at a `Desk`: the transaction, with the conversation
already locked (DESIGN rule 5), and `change`, which hands the effects the person
asked for (assign, move stage, resolve, tag, reply ...) to `step` as a Command.
The reducer applies them exactly as it applies a rule's, raises the same events
(stage entered, status changed, assigned, tag added) for the rules in force,
and the SLA clocks follow. So "when stage entered quote" fires whether a rule, an
integration or a teammate moved the conversation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.automation.refusals import Conflict, InvalidInput, NotFound
from engine.automation.runner import (
    Applied,
    RulesInForce,
    StepConflict,
    no_rules,
    rules_in_force,
    step_conversation,
)
from engine.conversations.threads import locked_conversation
from engine.core.rules.effects import Effect
from engine.core.step import Actor, Command
from engine.db import unit_of_work
from engine.models import Conversation
from engine.workspaces.directory import ConfigDirectory

T = TypeVar("T")


@dataclass
class Desk:
    """Where a staff action works: the transaction, and the engine that applies its changes."""

    session: Session
    rules: RulesInForce

    def change(
        self, conversation_id: int, actor: Actor, effects: Sequence[Effect], now: datetime
    ) -> Applied:
        """Apply what a person asked for, now, through the reducer; refused whole, with the
        reason, when the record does not allow it."""
        command = Command(f"staff:{uuid.uuid4().hex}", actor, tuple(effects), now)
        try:
            applied = step_conversation(self.session, self.rules, conversation_id, command, now)
        except StepConflict:
            raise Conflict(
                "this customer already has an open conversation on this number; work that one"
            ) from None
        if applied is None:
            raise NotFound(f"no conversation {conversation_id}")
        refusal = applied.outcome.refused
        if refusal is not None:
            raise (Conflict if refusal.conflict else InvalidInput)(refusal.reason)
        return applied


def desk_for(session: Session, rules: RulesInForce | None) -> Desk:
    """A workspace with no valid config still lets staff work: no rules run, no pipelines."""
    return Desk(session, rules if rules is not None else no_rules())


def act_on_conversation(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    conversation_id: int,
    work: Callable[[Desk], T],
    now: datetime,
) -> T:
    """One transaction: lock the conversation before anything reads it, then act."""
    with unit_of_work(db, workspace_id) as session:
        if locked_conversation(session, conversation_id) is None:
            raise NotFound(f"no conversation {conversation_id}")
        return work(desk_for(session, rules_in_force(session, configs, workspace_id)))


def act_on_contacts(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    contact_ids: Callable[[Session], Iterable[int | None]],
    work: Callable[[Desk], T],
    now: datetime,
) -> T:
    """A staff action on whole contacts (a merge, its undo) that may resolve or reopen
    their conversations: each is locked first, in id order so two merges cannot deadlock."""
    with unit_of_work(db, workspace_id) as session:
        contacts = sorted({c for c in contact_ids(session) if c is not None})
        for conversation_id in session.scalars(
            select(Conversation.id)
            .where(Conversation.contact_id.in_(contacts))
            .order_by(Conversation.id)
        ):
            locked_conversation(session, conversation_id)
        return work(desk_for(session, rules_in_force(session, configs, workspace_id)))
