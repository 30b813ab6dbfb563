"""The business's own records: what the conversations are about.

The transcript is not the database: an order, a booking or a payment request is
a row of its own, linked to its contact and to every conversation about it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, JSONDocument, WorkspaceScoped, choice
from engine.models.states import BusinessObjectKind, values

if TYPE_CHECKING:
    from engine.models.contacts import Contact
    from engine.models.conversations import Conversation


class BusinessObject(WorkspaceScoped, Base):
    """A lead, order, booking, support case, payment request or account."""

    __tablename__ = "business_objects"
    __table_args__ = (
        # The outside system's id (an order number, an M-Pesa checkout id) names
        # one object per kind; objects without one never collide (NULLs differ).
        UniqueConstraint("workspace_id", "kind", "external_ref"),
        Index(None, "workspace_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(choice("business_object_kind", values(BusinessObjectKind)))
    external_ref: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(64))
    # Money is exact: Numeric, never float; currency as ISO 4217 (KES, USD).
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What it contains: [{"description", "quantity", "unit_price"}], numbers as exact
    # decimal strings; when there are lines, `amount` is their sum.
    line_items: Mapped[list[dict[str, str]]] = mapped_column(JSONDocument, default=list)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    pipeline: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    contact: Mapped[Contact | None] = relationship(back_populates="business_objects")
    conversation_links: Mapped[list[BusinessObjectLink]] = relationship(
        back_populates="business_object", cascade="all, delete-orphan"
    )
    conversations: Mapped[list[Conversation]] = relationship(
        secondary="business_object_links", viewonly=True, order_by="Conversation.id"
    )


class BusinessObjectLink(WorkspaceScoped, Base):
    """ "This conversation is about this object" (many to many, one row a pair)."""

    __tablename__ = "business_object_links"
    __table_args__ = (UniqueConstraint("business_object_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_object_id: Mapped[int] = mapped_column(
        ForeignKey("business_objects.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )

    business_object: Mapped[BusinessObject] = relationship(back_populates="conversation_links")
    conversation: Mapped[Conversation] = relationship(back_populates="business_object_links")


class BusinessObjectRelation(WorkspaceScoped, Base):
    """ "This object is about that one": a case about an order, a booking for a lead.

    One row a pair, stored once (the lower id first); both objects show it."""

    __tablename__ = "business_object_relations"
    __table_args__ = (UniqueConstraint("business_object_id", "related_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_object_id: Mapped[int] = mapped_column(
        ForeignKey("business_objects.id", ondelete="CASCADE")
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("business_objects.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
