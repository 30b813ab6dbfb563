"""What happens to a message after it is stored: reactions, edits, and provider updates
that arrived before the message they are about (WhatsApp reference §5.8, §5.13, §6.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import Reactor, UnmatchedState, values


class MessageReaction(WorkspaceScoped, Base):
    """The current reaction of one side (the customer, or the business from its phone app)
    on one message. A removal keeps the row with no emoji, so a late, older reaction
    cannot bring back what was cleared."""

    __tablename__ = "message_reactions"
    __table_args__ = (UniqueConstraint("message_id", "reactor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    reactor: Mapped[str] = mapped_column(choice("message_reactor", values(Reactor)))
    emoji: Mapped[str | None] = mapped_column(String(64))  # None: removed
    reacted_at: Mapped[datetime]  # the provider's time of the latest reaction or removal
    provider_message_id: Mapped[str | None] = mapped_column(String(255))


class MessageEdit(WorkspaceScoped, Base):
    """One edit of a message: what it said before and after (the history an edit keeps)."""

    __tablename__ = "message_edits"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider_message_id"),
        Index(None, "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    previous_body: Mapped[str | None] = mapped_column(Text)
    previous_media: Mapped[dict[str, Any] | None]
    body: Mapped[str | None] = mapped_column(Text)
    # False when WhatsApp said only that the message was edited (an `unsupported` edit).
    text_known: Mapped[bool] = mapped_column(default=True)
    edited_at: Mapped[datetime]
    provider_message_id: Mapped[str] = mapped_column(String(255))  # the edit event's own id


class UnmatchedItem(WorkspaceScoped, Base):
    """A status, reaction, edit or revoke about a message Kazi does not have (yet).

    Kept, and applied the moment the message is stored (a send's answer racing its
    first status); `orphaned` once it is old enough that the message clearly is not
    coming (sent by another app, the dashboard, before Kazi). Even then it is applied
    if the message does turn up: nothing here is thrown away.
    """

    __tablename__ = "unmatched_items"
    __table_args__ = (
        Index(None, "workspace_id", "target_provider_message_id"),
        Index(None, "workspace_id", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_provider_message_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # status | reaction | edit | revoke
    summary: Mapped[str] = mapped_column(String(255))  # "delivered", "👍", ...
    payload: Mapped[dict[str, Any]]  # the single-item webhook envelope, re-parsed to apply
    inbound_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_events.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(
        choice("unmatched_item_state", values(UnmatchedState)), default=UnmatchedState.WAITING
    )
    received_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
