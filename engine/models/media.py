"""Media bytes Kazi keeps: what a customer sent (downloaded) and what staff attached.

The bytes live in the database (bytea on PostgreSQL, a blob on SQLite) so every
server process and worker sees the same file without a shared disk. One file
belongs to one message; it is served only through an authorising route.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped, choice

if TYPE_CHECKING:
    from engine.models.conversations import Message

MEDIA_ORIGINS = ("inbound", "outbound")


class MediaFile(WorkspaceScoped, Base):
    __tablename__ = "media_files"
    # One file a message: a download that runs twice stores it once.
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(choice("media_origin", MEDIA_ORIGINS))
    sha256: Mapped[str] = mapped_column(String(64))  # hex
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    # As the customer or teammate named it: untrusted, escaped wherever shown.
    file_name: Mapped[str | None] = mapped_column(String(255))
    # Loaded only when asked for, so listing files never drags their bytes along.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # WhatsApp's id for the file: the customer's upload, or ours (reusable for ~30 days).
    provider_media_id: Mapped[str | None] = mapped_column(String(255))
    provider_media_uploaded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    message: Mapped[Message] = relationship()
