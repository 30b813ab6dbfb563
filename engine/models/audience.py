"""Who may be messaged, and how contacts came in: tags on a person, consent with its
history, and uploaded contact lists waiting for their column mapping."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import values


class ConsentState(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class ImportState(StrEnum):
    UPLOADED = "uploaded"  # waiting for its mapping and confirmation
    IMPORTED = "imported"


class ContactTag(WorkspaceScoped, Base):
    """A label on a person ("wholesale", "nairobi-2025"), kept however many
    conversations they have; segments and exports select by it."""

    __tablename__ = "contact_tags"
    __table_args__ = (
        UniqueConstraint("workspace_id", "contact_id", "name"),
        Index(None, "workspace_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))


class ContactConsent(WorkspaceScoped, Base):
    """Whether a person may receive messages they did not ask for (templates a business
    starts, broadcasts): the latest word, with where it came from and when. No row
    means no opt-in was ever recorded. The history is in `consent_events`."""

    __tablename__ = "contact_consents"
    __table_args__ = (UniqueConstraint("workspace_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(choice("consent_state", values(ConsentState)))
    # "manual", "import", "customer message", "keyword" ... and what exactly, in `detail`.
    source: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    changed_at: Mapped[datetime]
    # True when the person themselves said it (a keyword they sent): an opt-out the
    # customer sent can only be undone by the customer.
    by_customer: Mapped[bool] = mapped_column(default=False)


class ConsentEvent(WorkspaceScoped, Base):
    """Every opt-in and opt-out as it was recorded: who or what, when, from where."""

    __tablename__ = "consent_events"
    __table_args__ = (Index(None, "workspace_id", "contact_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(choice("consent_event_state", values(ConsentState)))
    source: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]
    by_customer: Mapped[bool] = mapped_column(default=False)
    teammate_id: Mapped[int | None] = mapped_column(ForeignKey("teammates.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))


class ContactImport(WorkspaceScoped, Base):
    """An uploaded contact list. It is kept as uploaded until someone confirms the
    mapping, so nothing reaches the contacts before the preview was seen, and any
    server process can show the preview."""

    __tablename__ = "contact_imports"
    __table_args__ = (Index(None, "workspace_id", "uploaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    # {column header: target}, e.g. {"Phone": "phone", "Town": "field:county"}.
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_region: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(choice("contact_import_state", values(ImportState)))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime]
    imported_at: Mapped[datetime | None]
    # Counts and row errors of the import, once confirmed.
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SavedSegment(WorkspaceScoped, Base):
    """A segment a manager named, to export (and later broadcast to) again: its
    definition as data (engine.contacts.segments.Segment)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
