"""What the start page shows: each hosted workspace with a few health figures."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from engine.db import system_session
from engine.models import Contact, Conversation, InboundEvent, Workspace


@dataclass(frozen=True)
class WorkspaceSummary:
    slug: str
    name: str
    timezone: str
    contacts: int
    open_conversations: int
    unassigned_conversations: int
    waiting_events: int
    failed_events: int


def workspace_summaries(db: Engine) -> list[WorkspaceSummary]:
    """One grouped count per figure, not one query per workspace."""
    with system_session(db) as session:
        workspaces = session.scalars(select(Workspace).order_by(Workspace.name)).all()

        def counts(statement: object) -> dict[int, int]:
            return {ws_id: n for ws_id, n in session.execute(statement)}  # type: ignore[call-overload]

        contacts = counts(select(Contact.workspace_id, func.count()).group_by(Contact.workspace_id))
        is_open = Conversation.status != "resolved"
        open_conversations = counts(
            select(Conversation.workspace_id, func.count())
            .where(is_open)
            .group_by(Conversation.workspace_id)
        )
        unassigned = counts(
            select(Conversation.workspace_id, func.count())
            .where(is_open, Conversation.owner_id.is_(None))
            .group_by(Conversation.workspace_id)
        )
        waiting = counts(
            select(InboundEvent.workspace_id, func.count())
            .where(InboundEvent.state.in_(("received", "processing")))
            .group_by(InboundEvent.workspace_id)
        )
        failed = counts(
            select(InboundEvent.workspace_id, func.count())
            .where(InboundEvent.state.in_(("failed", "flagged")))
            .group_by(InboundEvent.workspace_id)
        )
        return [
            WorkspaceSummary(
                slug=ws.slug,
                name=ws.name,
                timezone=ws.timezone,
                contacts=contacts.get(ws.id, 0),
                open_conversations=open_conversations.get(ws.id, 0),
                unassigned_conversations=unassigned.get(ws.id, 0),
                waiting_events=waiting.get(ws.id, 0),
                failed_events=failed.get(ws.id, 0),
            )
            for ws in workspaces
        ]
