"""A contact's addresses over time.

A person keeps their contact when their number changes: the old identity is
closed (kept as history: who had this number, and until when) and a new one
opens on the same contact. Call these inside a workspace session; they flush
but never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.identity.phones import to_e164
from engine.models import Channel, Contact, Identity


def normalise_address(channel: str, raw: str, default_region: str | None = None) -> str:
    """The one spelling of an address on a channel: E.164 for phones, lower case for email."""
    if channel == Channel.WHATSAPP:
        return to_e164(raw, default_region, strict=False)
    if channel == Channel.PHONE:
        return to_e164(raw, default_region)
    if channel == Channel.EMAIL:
        address = raw.strip().lower()
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in address):
            raise ValueError(f"{raw!r} is not an email address")
        return address
    raise ValueError(f"unknown channel {channel!r}")


def find_contact(session: Session, channel: str, address: str) -> Contact | None:
    """The contact whose current identity on `channel` is `address` (already normalised)."""
    return session.scalars(
        select(Contact)
        .join(Identity, Identity.contact_id == Contact.id)
        .where(
            Identity.channel == channel,
            Identity.address == address,
            Identity.is_current.is_(True),
        )
    ).one_or_none()


def identify(
    session: Session,
    channel: str,
    raw_address: str,
    now: datetime,
    *,
    default_region: str | None = None,
    profile_name: str | None = None,
) -> Contact:
    """The contact behind an address, created (with its identity) on first contact.

    Two workers meeting a new number at once both try to insert; the unique
    index on current addresses lets one win and the other finds its contact.
    """
    address = normalise_address(channel, raw_address, default_region)
    contact = find_contact(session, channel, address)
    if contact is not None:
        return contact
    try:
        with session.begin_nested():
            contact = Contact(profile_name=profile_name)
            session.add(contact)
            session.add(Identity(contact=contact, channel=channel, address=address, valid_from=now))
    except IntegrityError:
        contact = find_contact(session, channel, address)
        if contact is None:
            raise
    return contact


def change_address(
    session: Session, identity: Identity, new_raw_address: str, now: datetime
) -> Identity:
    """Close `identity` at `now` and open the new address on the same contact and channel."""
    if not identity.is_current:
        raise ValueError("only a current identity can change its address")
    address = normalise_address(identity.channel, new_raw_address)
    if address == identity.address:
        return identity
    identity.is_current = False
    identity.valid_to = now
    successor = Identity(
        contact_id=identity.contact_id,
        channel=identity.channel,
        address=address,
        valid_from=now,
    )
    session.add(successor)
    session.flush()
    return successor
