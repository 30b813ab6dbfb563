"""In-app notifications: what a rule or a colleague wants a teammate to see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped


class Notification(WorkspaceScoped, Base):
    __tablename__ = "notifications"
    __table_args__ = (Index(None, "teammate_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teammate_id: Mapped[int] = mapped_column(ForeignKey("teammates.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))  # the rule's name, or who sent it
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
