"""Staff actions enter the rule runtime like everything else (DESIGN: the flow).

A page or API action observes the conversation before it changes it; afterwards,
in the same transaction, the difference becomes domain events (stage entered,
status changed, assigned, tag added) that run through the rules in force, and
the SLA clocks follow. So "when stage entered quote" fires whether a rule, an
integration or a teammate moved the conversation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.automation.runner import rules_in_force, run_event
from engine.core.rules.changes import Observed, changes
from engine.db import unit_of_work
from engine.models import Conversation
from engine.sla.clocks import refresh_clocks
from engine.workspaces.directory import ConfigDirectory

T = TypeVar("T")


def observe(session: Session, conversation_id: int) -> Observed | None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    return Observed(
        pipeline=conversation.pipeline,
        stage=conversation.stage,
        status=conversation.status,
        owner_id=conversation.owner_id,
        team_id=conversation.team_id,
        tags=frozenset(conversation.tag_names),
    )


def run_staff_changes(
    session: Session,
    configs: ConfigDirectory,
    workspace_id: int,
    conversation_id: int,
    before: Observed | None,
    now: datetime,
) -> None:
    """Hand what the action changed to the rules; call it before the transaction ends."""
    session.flush()
    conversation = session.get(Conversation, conversation_id)
    if before is None or conversation is None:
        return
    session.refresh(conversation, ["tags"])  # tags may have been added as rows, not via it
    after = observe(session, conversation_id)
    assert after is not None
    events = changes(before, after, f"staff:{uuid.uuid4().hex}", now)
    rules = rules_in_force(session, configs, workspace_id)
    if rules is None:
        return
    for event in events:
        run_event(session, rules, conversation, event, now)
    refresh_clocks(session, rules, conversation, now)


def act_on_conversation(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    conversation_id: int,
    work: Callable[[Session], T],
    now: datetime,
) -> T:
    """Run a staff action in one transaction, then let the rules see what it changed."""
    with unit_of_work(db, workspace_id) as session:
        before = observe(session, conversation_id)
        result = work(session)
        run_staff_changes(session, configs, workspace_id, conversation_id, before, now)
        return result


def act_on_contacts(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    contact_ids: Callable[[Session], Iterable[int | None]],
    work: Callable[[Session], T],
    now: datetime,
) -> T:
    """A staff action on whole contacts (a merge, its undo) that may resolve or reopen
    their conversations: the rules and the SLA clocks see each change, as they would
    had a teammate resolved or reopened those conversations by hand."""
    with unit_of_work(db, workspace_id) as session:
        contacts = sorted({c for c in contact_ids(session) if c is not None})
        conversations = session.scalars(
            select(Conversation.id)
            .where(Conversation.contact_id.in_(contacts))
            .order_by(Conversation.id)
        ).all()
        before = {conversation: observe(session, conversation) for conversation in conversations}
        result = work(session)
        for conversation, seen in before.items():
            run_staff_changes(session, configs, workspace_id, conversation, seen, now)
        return result
