"""Reading the customer record for the inbox and the API: a contact, their addresses
(with history), conversations and business objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.errors import NotFound
from engine.inbox.queues import display_name
from engine.models import BusinessObject, Contact, Conversation, Identity, Teammate, WebSession


@dataclass(frozen=True)
class IdentityView:
    channel: str
    address: str
    current: bool
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    status: str
    owner_id: int | None
    stage: str | None
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class BusinessObjectSummary:
    id: int
    kind: str
    external_ref: str | None
    status: str
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    profile_name: str | None
    language: str | None
    fields: dict[str, object]
    identities: list[IdentityView]
    conversations: list[ConversationSummary]
    business_objects: list[BusinessObjectSummary]


def contact_view(
    session: Session, principal: Principal, contact_id: int, *, audit_at: datetime | None = None
) -> ContactView:
    """One contact's record. With `audit_at`, the view is written to the audit log
    (DESIGN: views of customer data are audited); the caller commits."""
    require(principal, Action.VIEW_CONTACT)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    if audit_at is not None:
        record(
            session, principal, "view", subject_kind="contact", subject_id=contact.id, now=audit_at
        )
    return ContactView(
        id=contact.id,
        name=display_name(contact),
        profile_name=contact.profile_name,
        language=contact.language,
        fields=dict(contact.fields or {}),
        identities=[
            IdentityView(i.channel, i.address, i.is_current, i.valid_from, i.valid_to)
            for i in session.scalars(
                select(Identity)
                .where(Identity.contact_id == contact.id)
                .order_by(Identity.valid_from)
            )
        ],
        conversations=[
            ConversationSummary(c.id, c.status, c.owner_id, c.stage, c.opened_at, c.resolved_at)
            for c in session.scalars(
                select(Conversation)
                .where(Conversation.contact_id == contact.id)
                .order_by(Conversation.opened_at.desc())
            )
        ],
        business_objects=[
            BusinessObjectSummary(b.id, b.kind, b.external_ref, b.status, b.amount, b.currency)
            for b in session.scalars(
                select(BusinessObject)
                .where(BusinessObject.contact_id == contact.id)
                .order_by(BusinessObject.id)
            )
        ],
    )


def find_contacts(
    session: Session, principal: Principal, text: str, limit: int = 50
) -> list[Contact]:
    """Contacts whose name, WhatsApp name or any address contains `text`."""
    require(principal, Action.VIEW_CONTACT)
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        session.scalars(
            select(Contact)
            .where(
                or_(
                    Contact.name.ilike(pattern, escape="\\"),
                    Contact.profile_name.ilike(pattern, escape="\\"),
                    exists().where(
                        Identity.contact_id == Contact.id,
                        Identity.address.ilike(pattern, escape="\\"),
                    ),
                )
            )
            .order_by(Contact.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class TeammateRow:
    id: int
    handle: str
    name: str
    role: str
    active: bool
    has_password: bool
    live_sessions: int


def team_overview(session: Session, principal: Principal, now: datetime) -> list[TeammateRow]:
    """Teammates with their sign-in state, for the admin's page."""
    require(principal, Action.MANAGE_TEAMMATES)
    live: dict[int, int] = {
        teammate_id: count
        for teammate_id, count in session.execute(
            select(WebSession.teammate_id, func.count(WebSession.id))
            .where(WebSession.ended_at.is_(None), WebSession.expires_at > now)
            .group_by(WebSession.teammate_id)
        )
    }
    return [
        TeammateRow(
            t.id, t.handle, t.name, t.role, t.active, bool(t.password_hash), live.get(t.id, 0)
        )
        for t in session.scalars(select(Teammate).order_by(Teammate.name))
    ]
