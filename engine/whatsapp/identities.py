"""Who a WhatsApp message is from, and what number and identity changes do (§5.10, §10).

A contact is found by the wa_id in any of its number forms (Brazil, Argentina, Mexico)
or, for a username-only user, by the business-scoped user id (BSUID). A number change
moves the identity and keeps the contact; both stay in the identity history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.whatsapp.events import InboundMessage, SystemContent
from connectors.whatsapp.numbers import equivalent_wa_ids
from engine.identity import change_address, find_current_identity, identify, normalise_address
from engine.inbound.processing import FlagForStaff
from engine.models import ActorKind, AuditLog, Channel, Contact, Conversation, Identity

NUMBER_CHANGES = ("user_changed_number", "customer_changed_number")


def apply_system(
    session: Session, item: InboundMessage, system: SystemContent, now: datetime
) -> None:
    """A number or identity change (§5.10): the contact keeps its history and its
    conversations; the change shows on the contact's latest conversation. Not a message
    from the customer, so no rule hears `message received`."""
    if system.system_type in NUMBER_CHANGES and system.new_wa_id and item.from_wa_id:
        old = find_current_identity(session, Channel.WHATSAPP, wa_id_forms(item.from_wa_id))
        if old is not None:
            change_address(session, old, system.new_wa_id, now)
    if system.new_user_id and system.previous_user_id:
        # A number change regenerates the BSUID; `user_changed_user_id` changes only it.
        old_user = find_current_identity(
            session, Channel.WHATSAPP, {system.previous_user_id.strip()}
        )
        if old_user is not None:
            change_address(session, old_user, system.new_user_id, now)
    known = [
        a for a in (system.new_wa_id, item.from_wa_id, system.new_user_id, item.from_user_id) if a
    ]
    identity = next(
        (
            found
            for address in known
            if (found := find_current_identity(session, Channel.WHATSAPP, wa_id_forms(address)))
        ),
        None,
    )
    if identity is None:
        return  # about someone Kazi never met: the raw event is all there is to keep
    conversation = session.scalars(
        select(Conversation)
        .where(Conversation.contact_id == identity.contact_id)
        .order_by(Conversation.resolved_at.is_not(None), Conversation.id.desc())
    ).first()
    if conversation is None:
        return
    session.add(
        AuditLog(
            actor_kind=ActorKind.CONTACT,
            actor_name="WhatsApp",
            action="whatsapp_system",
            subject_kind="conversation",
            subject_id=conversation.id,
            detail={
                "type": system.system_type,
                "text": system.body or system.system_type.replace("_", " "),
                "new_wa_id": system.new_wa_id,
                "new_user_id": system.new_user_id,
                "previous_user_id": system.previous_user_id,
            },
            at=_instant(item.timestamp) or now,
        )
    )
    session.flush()


def sender_contact(session: Session, item: InboundMessage, now: datetime) -> Contact:
    """The contact who wrote: by the wa_id in any of its number forms, else by the
    business-scoped user id (BSUID) of a username-only user (§10.2). A number that
    turns up later for a known BSUID joins that contact; a BSUID seen for the first
    time joins the contact of its number. Both stay in the identity history."""
    wa_id = item.from_wa_id
    bsuid = item.from_user_id or (item.sender.user_id if item.sender else None)
    name = item.sender.name if item.sender else None
    if not wa_id and not bsuid:
        raise FlagForStaff("A message with neither `from` nor `from_user_id`: no sender.")
    by_user = find_current_identity(session, Channel.WHATSAPP, {bsuid.strip()}) if bsuid else None
    by_number = (
        find_current_identity(session, Channel.WHATSAPP, wa_id_forms(wa_id)) if wa_id else None
    )
    if wa_id and by_number is None and by_user is not None:
        _add_identity(session, by_user.contact_id, wa_id, now)
        return by_user.contact
    contact = identify(
        session,
        Channel.WHATSAPP,
        wa_id or bsuid or "",
        now,
        profile_name=name,
        equivalent_raw=equivalent_wa_ids(wa_id) if wa_id else (),
        found=by_number if wa_id else by_user,
    )
    if wa_id and bsuid and by_user is None:
        _add_identity(session, contact.id, bsuid, now)
    if wa_id and by_number is not None:
        reported = normalise_address(Channel.WHATSAPP, wa_id)
        if reported != by_number.address:
            # WhatsApp reports another form of a known number (Brazil's ninth digit,
            # Mexico's 521, Argentina's 549; §10.1): both forms go on the one contact,
            # and the reported one, the newest identity, is where sends go.
            _add_identity(session, by_number.contact_id, wa_id, now)
    return contact


def _add_identity(session: Session, contact_id: int, raw_address: str, now: datetime) -> None:
    address = normalise_address(Channel.WHATSAPP, raw_address)
    try:
        with session.begin_nested():
            session.add(
                Identity(
                    contact_id=contact_id, channel=Channel.WHATSAPP, address=address, valid_from=now
                )
            )
    except IntegrityError:
        pass  # another worker recorded it a moment ago, or another contact holds it


def wa_id_forms(wa_id: str) -> set[str]:
    return {normalise_address(Channel.WHATSAPP, form) for form in equivalent_wa_ids(wa_id)}


def _instant(epoch_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None
