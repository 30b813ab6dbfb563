"""SLA clocks: one running deadline per conversation and kind (first response, ...)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.conversations import Conversation

SLA_KINDS = ("first_response", "next_response", "resolution")


class SlaClock(WorkspaceScoped, Base):
    """A deadline under one policy of sla.yaml, started at a moment, until met or stopped.

    Warnings and breaches are recorded here once each, so the sweeper never
    reports the same breach twice and the manager's view can count them.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index(
            "uq_sla_clocks_one_running",
            "workspace_id",
            "conversation_id",
            "kind",
            unique=True,
            sqlite_where=text("stopped_at IS NULL"),
            postgresql_where=text("stopped_at IS NULL"),
        ),
        Index("ix_sla_clocks_due", "stopped_at", "due_at"),
        Index("ix_sla_clocks_warn", "stopped_at", "warn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(choice("sla_clock_kind", SLA_KINDS))
    policy: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warn_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    met: Mapped[bool | None]  # set when stopped: answered in time or not
    enqueued_at: Mapped[datetime | None]
    # Pauses (sla.yaml `pause_when`): the paused time banked so far, in seconds counted as
    # the target counts time, and the pause going on: since when, and until when if a
    # snooze ends it. `due_at` already includes the banked time and a snooze's whole pause.
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    paused_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship()

    def paused_since(self, now: datetime) -> datetime | None:
        """When the pause going on at `now` began; None when the clock runs."""
        if self.paused_at is None or (self.paused_until is not None and self.paused_until <= now):
            return None
        return self.paused_at
