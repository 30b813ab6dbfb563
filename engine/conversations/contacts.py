"""Who wrote: find a contact by one of their addresses, or create them once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.models import Contact, Identity


def find_current_identity(
    session: Session, channel: str, addresses: Iterable[str]
) -> Identity | None:
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
    ).first()


def resolve_contact(
    session: Session,
    *,
    channel: str,
    address: str,
    equivalent_addresses: Iterable[str] = (),
    profile_name: str | None,
    now: datetime,
) -> Contact:
    """The contact who holds `address` (or a form of it the provider treats as the same
    number) on `channel`; a new contact with that identity if nobody does.

    Two first messages from one person can race: the unique index on current
    addresses lets one insert win, and the loser reads the winner's contact.
    """
    addresses = {address, *equivalent_addresses}
    identity = find_current_identity(session, channel, addresses)
    if identity is None:
        try:
            with session.begin_nested():
                contact = Contact(name=profile_name, profile_name=profile_name)
                session.add(contact)
                session.flush()
                session.add(
                    Identity(
                        contact_id=contact.id,
                        channel=channel,
                        address=address,
                        valid_from=now,
                        is_current=True,
                    )
                )
                session.flush()
            return contact
        except IntegrityError:
            identity = find_current_identity(session, channel, addresses)
            if identity is None:
                raise
    contact = identity.contact
    if profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
        if not contact.name:
            contact.name = profile_name
    return contact


def move_identity(
    session: Session,
    *,
    channel: str,
    old_addresses: Iterable[str],
    new_address: str,
    now: datetime,
) -> Contact | None:
    """A person changed number: close the old identity, open the new one on the same
    contact, so history, conversations and orders stay with them."""
    old = find_current_identity(session, channel, old_addresses)
    if old is None:
        return None
    if old.address == new_address:
        return old.contact
    taken = find_current_identity(session, channel, [new_address])
    if taken is not None and taken.contact_id != old.contact_id:
        # The new number already belongs to someone else in our records: it is theirs
        # no longer, so close it there too rather than have two people on one number.
        taken.is_current = False
        taken.valid_to = now
    old.is_current = False
    old.valid_to = now
    session.flush()
    if taken is None or taken.contact_id != old.contact_id:
        session.add(
            Identity(
                contact_id=old.contact_id,
                channel=channel,
                address=new_address,
                valid_from=now,
                is_current=True,
            )
        )
        session.flush()
    return old.contact
