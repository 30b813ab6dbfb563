"""Who has a conversation open, and who is typing a reply in it.

Kept in the database (not in a server process's memory) so every server process
shows the same faces; rows are refreshed by the page's heartbeat and simply go
stale when it stops, so a closed laptop needs no cleanup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped


class Presence(WorkspaceScoped, Base):
    __tablename__ = "presence"
    __table_args__ = (
        UniqueConstraint("conversation_id", "teammate_id"),
        Index(None, "conversation_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    teammate_id: Mapped[int] = mapped_column(ForeignKey("teammates.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime]  # the page's last heartbeat
    typed_at: Mapped[datetime | None]  # the last keystroke in the reply box
