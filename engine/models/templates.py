"""What Meta last said about each message template (reference §6.5, §8.2), and what customers
chose about marketing messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped


class TemplateStatus(WorkspaceScoped, Base):
    """One template (name + language) as the template webhooks report it. Values are
    stored as Meta sends them (APPROVED, PAUSED, ...; GREEN, RED ...): the platform adds
    new ones, and an unknown one must be kept, not refused."""

    __tablename__ = "template_statuses"
    __table_args__ = (UniqueConstraint("workspace_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(32))  # "" when the webhook named none
    provider_template_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class MessagingPreference(WorkspaceScoped, Base):
    """A customer's choice about a category of business messages (reference §6.5
    `user_preferences`, and the 131050 a marketing send fails with after a `stop`)."""

    __tablename__ = "messaging_preferences"
    __table_args__ = (UniqueConstraint("contact_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))  # "marketing_messages"
    value: Mapped[str] = mapped_column(String(32))  # "stop" | "resume" | "signup" | as sent
    source: Mapped[str] = mapped_column(String(64))  # "user_preferences" | "error 131050"
    changed_at: Mapped[datetime]
