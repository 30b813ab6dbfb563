"""Broadcasts: one approved template sent to the opted-in people of a segment, and what
became of each person in it (queued with their message, or skipped with the reason)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, JSONDocument, WorkspaceScoped, choice
from engine.models.states import values


class BroadcastState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for send_at, or for its next chunk to be queued
    QUEUEING = "queueing"  # a worker holds it (lease) and is queueing a chunk
    QUEUED = "queued"  # every recipient has a message in the outbox or a skip reason
    CANCELLED = "cancelled"


class RecipientState(StrEnum):
    QUEUED = "queued"  # a message is in the outbox for them
    SKIPPED = "skipped"  # not sent; `reason` says why


class Broadcast(WorkspaceScoped, Base):
    """A template sent to a segment now or at `send_at`. Its recipients are queued in
    chunks by a job (engine.broadcasts.dispatch) claimed with a lease, so a worker that
    dies mid-chunk leaves nothing half-done and the sweeper hands the rest out again."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        Index(None, "workspace_id", "created_at"),
        Index("ix_broadcasts_sweep", "state", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    # Per placeholder, where its value comes from: "contact.first_name", "contact.name",
    # "field:<key>", or fixed text (engine.broadcasts.variables).
    variables: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    # The segment as data (engine.contacts.segments.Segment) and where it came from:
    # "saved:<name>", "config:<name>" (broadcasts.yaml) or "custom".
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    segment_label: Mapped[str] = mapped_column(String(200))
    business_number: Mapped[str] = mapped_column(String(32))
    send_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(
        choice("broadcast_state", values(BroadcastState)), default=BroadcastState.SCHEDULED
    )
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    enqueued_at: Mapped[datetime | None]
    # The last contact id queued or skipped: the next chunk starts after it.
    cursor: Mapped[int] = mapped_column(default=0)
    # Why queueing waits (the number's messaging limit), for the report page.
    waiting_reason: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class BroadcastRecipient(WorkspaceScoped, Base):
    """One person of a broadcast's segment: at most one row per broadcast and contact
    (the database refuses a second), written in the transaction that queued their
    message, so nobody can be sent the same broadcast twice."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        UniqueConstraint("workspace_id", "broadcast_id", "contact_id"),
        Index(None, "workspace_id", "broadcast_id", "state"),
        Index(None, "workspace_id", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(choice("broadcast_recipient_state", values(RecipientState)))
    reason: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    queued_at: Mapped[datetime]
