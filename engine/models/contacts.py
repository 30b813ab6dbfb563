"""Who the business talks to: contacts, their addresses over time, their companies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import Channel, values

if TYPE_CHECKING:
    from engine.models.business import BusinessObject
    from engine.models.conversations import Conversation


class Company(WorkspaceScoped, Base):
    """Groups several contacts (a distributor's shop, a firm's client)."""

    __tablename__ = "companies"
    __table_args__ = (Index(None, "workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    contacts: Mapped[list[Contact]] = relationship(back_populates="company")


class Contact(WorkspaceScoped, Base):
    """A person. Their addresses are Identities, so a new number keeps the person."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "workspace_id", "name"),
        # Search finds names by any part ("ILIKE '%amina%'"): trigram indexes on
        # PostgreSQL; on SQLite these are plain indexes the search does not need.
        Index(
            "ix_contacts_name_trigrams",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_contacts_profile_name_trigrams",
            "profile_name",
            postgresql_using="gin",
            postgresql_ops={"profile_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The name the person gave themselves on WhatsApp: untrusted, shown escaped.
    profile_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when this contact was merged into another: the row stays (a merge can be
    # undone), and every lookup of this id leads to the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # Set when the person's data was erased: the row stays so payment records keep
    # pointing at "a contact", but it holds nothing about who they were.
    erased_at: Mapped[datetime | None]

    company: Mapped[Company | None] = relationship(back_populates="contacts")
    identities: Mapped[list[Identity]] = relationship(
        back_populates="contact", order_by="Identity.valid_from"
    )
    conversations: Mapped[list[Conversation]] = relationship(back_populates="contact")
    business_objects: Mapped[list[BusinessObject]] = relationship(back_populates="contact")

    def current_identities(self, channel: str | None = None) -> list[Identity]:
        return [
            identity
            for identity in self.identities
            if identity.is_current and (channel is None or identity.channel == channel)
        ]


class Identity(WorkspaceScoped, Base):
    """One address of a contact on one channel, valid from a moment until replaced.

    Only one current identity may hold an address in a workspace; a closed one
    stays as history (who had this number, when).
    """

    __tablename__ = "identities"
    __table_args__ = (
        Index(
            "uq_identities_current_address",
            "workspace_id",
            "channel",
            "address",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index(None, "workspace_id", "channel", "address"),
        # Search finds numbers by any run of digits ("LIKE '%722111%'").
        Index(
            "ix_identities_address_trigrams",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
        CheckConstraint(
            "(is_current AND valid_to IS NULL) OR (NOT is_current AND valid_to IS NOT NULL)",
            name="current_means_open",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(choice("identity_channel", values(Channel)))
    # Normalised: E.164 for whatsapp and phone, lower-cased for email.
    address: Mapped[str] = mapped_column(String(320))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    is_current: Mapped[bool] = mapped_column(default=True)

    contact: Mapped[Contact] = relationship(back_populates="identities")


class ContactMerge(WorkspaceScoped, Base):
    """One contact merged into another, with exactly what moved, so Undo moves
    exactly that back (and nothing that arrived on the survivor since).

    `moved` holds row ids only ("identities", "conversations", "business_objects",
    "messages", "resolved" conversations with their former state); `filled` holds
    the survivor's attributes and fields that were empty and took the merged
    contact's value, which erasure wipes like any personal data.
    """

    __tablename__ = "contact_merges"
    __table_args__ = (
        Index(None, "workspace_id", "survivor_id"),
        Index(None, "workspace_id", "merged_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    merged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    merged_at: Mapped[datetime]
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    filled: Mapped[dict[str, Any]] = mapped_column(default=dict)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
