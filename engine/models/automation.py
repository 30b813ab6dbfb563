"""Delayed rule actions waiting for their time ("after 48h unless the customer replied")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.conversations import Conversation
from engine.models.states import DelayState, values

SCHEDULED_ACTION_STATES = values(DelayState)


class ScheduledAction(WorkspaceScoped, Base):
    """One delayed block of one rule, for one conversation.

    It survives restarts and config reloads because it names the rule and block,
    not compiled code: when it runs, the config in force then re-checks its guard
    against the conversation as it is then (DESIGN rule 4). Staff can cancel it.
    """

    __tablename__ = "scheduled_actions"
    __table_args__ = (
        Index("ix_scheduled_actions_due", "state", "due_at"),
        Index(None, "conversation_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # The business object the triggering event was about (an order's stage), if any.
    business_object_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_objects.id", ondelete="CASCADE")
    )
    rule_name: Mapped[str] = mapped_column(String(200))
    block: Mapped[int]
    trigger_event_id: Mapped[str] = mapped_column(String(255))
    guard_text: Mapped[str | None] = mapped_column(Text)
    stage_at_schedule: Mapped[str | None] = mapped_column(String(64))
    status_at_schedule: Mapped[str | None] = mapped_column(String(32))
    scheduled_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(
        choice("scheduled_action_state", SCHEDULED_ACTION_STATES), default=DelayState.PENDING
    )
    lease_expires_at: Mapped[datetime | None]
    enqueued_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(Text)
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    finished_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship()
