"""The two work queues that live in the database: what came in, what must go out.

Both carry a state and a lease (DESIGN rule 6): huey only triggers work, and a
sweeper re-enqueues rows that are unprocessed or whose lease expired, so a lost
job delays work but never loses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import InboundState, OutboxState, values


class InboundEvent(WorkspaceScoped, Base):
    """A provider's webhook body, stored raw and committed before we answer 200."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        # DESIGN rule 2: provider + message/status id + status, so a redelivered
        # webhook is refused here rather than processed twice.
        UniqueConstraint("workspace_id", "provider", "dedup_key"),
        Index("ix_inbound_events_sweep", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    signature_ok: Mapped[bool]
    state: Mapped[str] = mapped_column(
        choice("inbound_event_state", values(InboundState)), default=InboundState.RECEIVED
    )
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    enqueued_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]


class OutboxRow(WorkspaceScoped, Base):
    """A side effect (send, call, notify) written in the transaction that decided it."""

    __tablename__ = "outbox_rows"
    __table_args__ = (
        # One key per action: a retry of the same action can never be a second row.
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_outbox_rows_sweep", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    idempotency_key: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(
        choice("outbox_row_state", values(OutboxState)), default=OutboxState.QUEUED
    )
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # When a job was last asked to carry it out; the sweeper re-asks only after a while.
    enqueued_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
