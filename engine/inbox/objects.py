"""Business objects from the conversation: create an order, booking, case or payment
request about it, or link one that exists. The transcript is not the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.models import BusinessObject, BusinessObjectKind, BusinessObjectLink

KINDS = tuple(kind.value for kind in BusinessObjectKind)


@dataclass(frozen=True)
class NewObject:
    kind: str
    external_ref: str | None = None
    status: str = "open"
    amount: str | None = None  # as typed; parsed exactly, never through float
    currency: str | None = None


def _amount(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e14"):
        raise InvalidInput("an amount is a positive number below 100 trillion")
    return value


def create_for_conversation(
    session: Session, principal: Principal, conversation_id: int, new: NewObject, now: datetime
) -> BusinessObject:
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    if new.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    reference = (new.external_ref or "").strip()[:255] or None
    currency = (new.currency or "").strip().upper() or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InvalidInput("a currency is a three-letter ISO code such as KES")
    status = new.status.strip()[:64] or "open"
    business_object = BusinessObject(
        kind=new.kind,
        external_ref=reference,
        status=status,
        amount=_amount(new.amount),
        currency=currency,
        contact_id=conversation.contact_id,
    )
    try:
        with session.begin_nested():
            session.add(business_object)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"a {new.kind} with reference {reference!r} exists; link it instead"
        ) from None
    session.add(
        BusinessObjectLink(business_object_id=business_object.id, conversation_id=conversation.id)
    )
    session.flush()
    record(
        session,
        principal,
        "create object",
        subject_kind="business_object",
        subject_id=business_object.id,
        now=now,
        conversation_id=conversation.id,
    )
    return business_object


def link_to_conversation(
    session: Session, principal: Principal, conversation_id: int, object_id: int, now: datetime
) -> BusinessObject:
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    business_object = session.get(BusinessObject, object_id)
    if business_object is None:
        raise NotFound(f"no business object {object_id}")
    linked = session.scalar(
        select(BusinessObjectLink.id).where(
            BusinessObjectLink.business_object_id == object_id,
            BusinessObjectLink.conversation_id == conversation.id,
        )
    )
    if linked is None:
        session.add(
            BusinessObjectLink(business_object_id=object_id, conversation_id=conversation.id)
        )
        session.flush()
    return business_object


def objects_of(
    session: Session, principal: Principal, conversation_id: int
) -> list[BusinessObject]:
    conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    return list(
        session.scalars(
            select(BusinessObject)
            .join(BusinessObjectLink, BusinessObjectLink.business_object_id == BusinessObject.id)
            .where(BusinessObjectLink.conversation_id == conversation_id)
            .order_by(BusinessObject.id)
        )
    )
