"""Adding a person by hand, giving them another number or correcting one, and tags on
a person. Every change is audited; numbers keep their history (engine.identity)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.contacts.consent import ConsentSource, record_consent
from engine.contacts.numbers import TypedNumber, typed_number
from engine.identity import change_address, find_current_identity
from engine.inbox.audit import record
from engine.inbox.contacts import ContactEdit, checked_edit
from engine.inbox.errors import InvalidInput, NotFound
from engine.models import Channel, Company, ConsentState, Contact, ContactTag, Identity

TAG = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,63}$")


def checked_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Tags as stored: trimmed, lower case, no repeats; InvalidInput for one that is not a tag."""
    tags: list[str] = []
    for text in raw:
        tag = text.strip().lower().replace(" ", "-")
        if not tag:
            continue
        if not TAG.match(tag):
            raise InvalidInput(
                f"tag {text.strip()!r}: letters, digits and - _ . : / only, at most 64"
            )
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def split_tags(text: str) -> tuple[str, ...]:
    """Tags as people type them in one box: separated by commas, semicolons or bars."""
    return checked_tags(re.split(r"[,;|]", text))


@dataclass(frozen=True)
class NewContact:
    name: str
    number: str
    default_region: str | None = None
    company: str = ""
    language: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    # How the person agreed to hear from the business ("signed up at the counter");
    # empty: no opt-in recorded.
    opt_in: str = ""
    opt_in_at: datetime | None = None


def number_holder(session: Session, number: TypedNumber) -> Identity | None:
    """The current WhatsApp identity holding this number in any of its forms."""
    return find_current_identity(session, Channel.WHATSAPP, number.forms)


def _checked_number(raw: str, default_region: str | None) -> TypedNumber:
    if not raw.strip():
        raise InvalidInput("number: a contact needs a WhatsApp number")
    try:
        return typed_number(raw, default_region or None)
    except ValueError as wrong:
        raise InvalidInput(f"number: {wrong}") from None


def _taken(holder: Identity) -> InvalidInput:
    return InvalidInput(
        f"number: {holder.address} already belongs to contact {holder.contact_id}; "
        "open that contact, or merge the two"
    )


def company_named(session: Session, name: str) -> Company:
    """The company of that name (any case), created when there is none."""
    found = session.scalars(
        select(Company).where(func.lower(Company.name) == name.lower()).order_by(Company.id)
    ).first()
    if found is None:
        found = Company(name=name)
        session.add(found)
        session.flush()
    return found


def add_contact(session: Session, principal: Principal, new: NewContact, now: datetime) -> Contact:
    """Create the contact with its WhatsApp number, tags and (when given) opt-in; InvalidInput
    naming the part that is wrong, including a number someone already has. The caller commits."""
    require(principal, Action.EDIT_CONTACT)
    wanted = checked_edit(
        ContactEdit(name=new.name, language=new.language, company=new.company, fields=new.fields)
    )
    if not wanted.name:
        raise InvalidInput("name: a contact needs a name")
    number = _checked_number(new.number, new.default_region)
    tags = checked_tags(new.tags)
    holder = number_holder(session, number)
    if holder is not None:
        raise _taken(holder)
    contact = Contact(
        name=wanted.name,
        language=wanted.language or None,
        fields=dict(wanted.fields or {}),
        company=company_named(session, wanted.company) if wanted.company else None,
    )
    session.add(contact)
    session.flush()
    session.add(
        Identity(
            contact_id=contact.id, channel=Channel.WHATSAPP, address=number.address, valid_from=now
        )
    )
    session.add_all(ContactTag(contact_id=contact.id, name=tag) for tag in tags)
    if new.opt_in.strip():
        record_consent(
            session,
            contact.id,
            ConsentState.OPTED_IN,
            source=ConsentSource.MANUAL,
            detail=new.opt_in.strip(),
            now=new.opt_in_at or now,
            teammate_id=principal.teammate_id,
        )
    record(
        session,
        principal,
        "create",
        subject_kind="contact",
        subject_id=contact.id,
        now=now,
        number=number.address,
        tags=list(tags),
        opt_in=new.opt_in.strip() or None,
    )
    session.flush()
    return contact


def _live_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    if contact.merged_into_id is not None:
        raise InvalidInput(
            f"contact {contact.id} was merged into contact {contact.merged_into_id}: edit that one"
        )
    if contact.erased_at is not None:
        raise InvalidInput("this contact was erased; there is nothing to edit")
    return contact


def add_number(
    session: Session,
    principal: Principal,
    contact_id: int,
    raw: str,
    now: datetime,
    *,
    default_region: str | None = None,
) -> Identity:
    """Give the contact another WhatsApp number (a second phone). The caller commits."""
    require(principal, Action.EDIT_CONTACT)
    contact = _live_contact(session, contact_id)
    number = _checked_number(raw, default_region)
    holder = number_holder(session, number)
    if holder is not None:
        if holder.contact_id == contact.id:
            return holder
        raise _taken(holder)
    identity = Identity(
        contact_id=contact.id, channel=Channel.WHATSAPP, address=number.address, valid_from=now
    )
    session.add(identity)
    record(
        session,
        principal,
        "add_number",
        subject_kind="contact",
        subject_id=contact.id,
        now=now,
        number=number.address,
    )
    session.flush()
    return identity


def correct_number(
    session: Session,
    principal: Principal,
    contact_id: int,
    old_address: str,
    raw: str,
    now: datetime,
    *,
    default_region: str | None = None,
) -> Identity:
    """Replace one of the contact's current numbers: the old one is closed and kept in the
    contact's history (who had it, until when), the new one opens now. The caller commits."""
    require(principal, Action.EDIT_CONTACT)
    contact = _live_contact(session, contact_id)
    current = next(
        (
            i
            for i in session.scalars(
                select(Identity).where(
                    Identity.contact_id == contact.id,
                    Identity.address == old_address,
                    Identity.is_current.is_(True),
                )
            )
        ),
        None,
    )
    if current is None:
        raise InvalidInput(f"number: {old_address} is not one of this contact's current numbers")
    number = _checked_number(raw, default_region)
    holder = number_holder(session, number)
    if holder is not None and holder.contact_id != contact.id:
        raise _taken(holder)
    successor = change_address(session, current, number.address, now)
    if successor.id != current.id:
        record(
            session,
            principal,
            "change_number",
            subject_kind="contact",
            subject_id=contact.id,
            now=now,
            changes={"number": {"from": old_address, "to": successor.address}},
        )
        session.flush()
    return successor


def contact_tags(session: Session, contact_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ContactTag.name)
            .where(ContactTag.contact_id == contact_id)
            .order_by(ContactTag.name)
        )
    )


def set_contact_tags(
    session: Session, principal: Principal, contact_id: int, text: str, now: datetime
) -> None:
    """Replace the person's tags with those typed (comma-separated). The caller commits."""
    require(principal, Action.EDIT_CONTACT)
    contact = _live_contact(session, contact_id)
    wanted = set(split_tags(text))
    rows = {
        t.name: t
        for t in session.scalars(select(ContactTag).where(ContactTag.contact_id == contact.id))
    }
    if wanted == set(rows):
        return
    for name in set(rows) - wanted:
        session.delete(rows[name])
    session.add_all(ContactTag(contact_id=contact.id, name=n) for n in sorted(wanted - set(rows)))
    record(
        session,
        principal,
        "edit",
        subject_kind="contact",
        subject_id=contact.id,
        now=now,
        changes={"tags": {"from": sorted(rows), "to": sorted(wanted)}},
    )
    session.flush()
