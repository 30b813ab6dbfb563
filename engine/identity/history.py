"""A contact's addresses over time.

A person keeps their contact when their number changes: the old identity is
closed (kept as history: who had this number, and until when) and a new one
opens on the same contact. Call these inside a workspace session; they flush
but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from connectors.whatsapp.numbers import is_bsuid
from engine.identity.phones import to_e164
from engine.models import Channel, Contact, Identity


def normalise_address(channel: str, raw: str, default_region: str | None = None) -> str:
    """The one spelling of an address on a channel: E.164 for phones, lower case for email."""
    if channel == Channel.WHATSAPP:
        if is_bsuid(raw):  # a username-only user's id is kept as WhatsApp spells it
            return raw.strip()
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


def find_current_identity(
    session: Session, channel: str, addresses: Iterable[str]
) -> Identity | None:
    """The current identity holding any of `addresses` (already normalised) on `channel`."""
    candidates = sorted(set(addresses))
    if not candidates:
        return None
    return session.scalars(
        select(Identity)
        .where(
            Identity.channel == channel,
            Identity.address.in_(candidates),
            Identity.is_current.is_(True),
        )
        .order_by(Identity.id)
        .limit(1)
        .options(joinedload(Identity.contact))  # every caller goes on to the contact
    ).first()


def find_contact(session: Session, channel: str, address: str) -> Contact | None:
    """The contact whose current identity on `channel` is `address` (already normalised)."""
    identity = find_current_identity(session, channel, [address])
    return identity.contact if identity is not None else None


def identify(
    session: Session,
    channel: str,
    raw_address: str,
    now: datetime,
    *,
    default_region: str | None = None,
    profile_name: str | None = None,
    equivalent_raw: Iterable[str] = (),
    found: Identity | None = None,
) -> Contact:
    """The contact behind an address, created (with its identity) on first contact.

    `equivalent_raw` are other spellings the provider treats as the same number
    (WhatsApp's Brazilian, Argentine and Mexican forms): a contact found under
    any of them is the one. Two workers meeting a new number at once both try to
    insert; the unique index on current addresses lets one win and the other
    finds its contact. A newer profile name is kept. `found`: the current identity
    the caller just looked up under these forms, so it is not looked up twice.
    """
    address = normalise_address(channel, raw_address, default_region)
    forms = {address} | {normalise_address(channel, raw, default_region) for raw in equivalent_raw}
    identity = found or find_current_identity(session, channel, forms)
    if identity is None:
        try:
            with session.begin_nested():
                contact = Contact(name=profile_name, profile_name=profile_name)
                session.add(contact)
                session.add(
                    Identity(contact=contact, channel=channel, address=address, valid_from=now)
                )
            return contact
        except IntegrityError:
            identity = find_current_identity(session, channel, forms)
            if identity is None:
                raise
    contact = identity.contact
    if profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
        contact.name = contact.name or profile_name
    return contact


def change_address(
    session: Session, identity: Identity, new_raw_address: str, now: datetime
) -> Identity:
    """Close `identity` at `now` and open the new address on the same contact and channel.

    If another contact currently holds the new address, that holding is closed too:
    the number is no longer theirs, and two people never share one current number.
    """
    if not identity.is_current:
        raise ValueError("only a current identity can change its address")
    address = normalise_address(identity.channel, new_raw_address)
    if address == identity.address:
        return identity
    taken = find_current_identity(session, identity.channel, [address])
    if taken is not None:
        if taken.contact_id == identity.contact_id:
            identity.is_current, identity.valid_to = False, now
            session.flush()
            return taken
        taken.is_current, taken.valid_to = False, now
    identity.is_current = False
    identity.valid_to = now
    session.flush()  # the address is free before the successor takes it (unique index)
    successor = Identity(
        contact_id=identity.contact_id,
        channel=identity.channel,
        address=address,
        valid_from=now,
    )
    session.add(successor)
    session.flush()
    return successor
