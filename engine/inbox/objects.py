"""Business objects from the conversation: create an order, booking, case or payment
request about it, or link one that exists. The transcript is not the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.automation.state import db_key
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.details import parsed_values
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
    desk: Desk, principal: Principal, conversation_id: int, new: NewObject, now: datetime
) -> BusinessObject:
    """A new object about the conversation; it enters its pipeline's first stage, and the
    rules see it enter, as when a rule creates one."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    if new.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    reference = (new.external_ref or "").strip()[:255] or None
    currency = (new.currency or "").strip().upper() or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InvalidInput("a currency is a three-letter ISO code such as KES")
    status = new.status.strip()[:64] or "open"
    if reference is not None and session.scalar(
        select(BusinessObject.id).where(
            BusinessObject.kind == new.kind, BusinessObject.external_ref == reference
        )
    ):
        raise Conflict(f"a {new.kind} with reference {reference!r} exists; link it instead")
    effect = fx.CreateObject(
        "",
        object_kind=new.kind,
        reference=reference,
        status=status,
        amount=_amount(new.amount),
        currency=currency,
    )
    applied = desk.change(conversation.id, actor_of(principal), [effect], now)
    created = applied.persisted.objects if applied.persisted else {}
    item = session.get(BusinessObject, next(iter(created.values()))) if created else None
    if item is None:
        raise InvalidInput("the object was not created")  # the reducer creates what it is given
    return item


def update_object(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    object_id: int,
    values: dict[str, object],
    now: datetime,
) -> BusinessObject:
    """Change an object's status, amount, reference or its own fields (from the config);
    the rules and the audit see each change."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    item = session.scalars(
        select(BusinessObject)
        .join(BusinessObjectLink, BusinessObjectLink.business_object_id == BusinessObject.id)
        .where(
            BusinessObject.id == object_id, BusinessObjectLink.conversation_id == conversation.id
        )
    ).first()
    if item is None:
        raise NotFound(f"no business object {object_id} on this conversation")
    own = {k: v for k, v in values.items() if k not in _COLUMNS}
    typed = {**{k: v for k, v in values.items() if k in _COLUMNS}}
    typed.update(parsed_values(desk.rules.config, item.kind, own))
    effects = []
    for name, value in typed.items():
        if name == "amount":
            value = _amount(None if value is None else str(value))
        elif name == "status":
            value = (str(value or "").strip()[:64]) or "open"
        elif isinstance(value, str):
            value = value.strip() or None
        if value == _current(item, name):
            continue  # a form sends every field; only a change reaches the rules and the audit
        field = "reference" if name == "external_ref" else name
        effects.append(
            fx.SetField("", owner=item.kind, field=field, value=value, subject=db_key(item.id))
        )
    if effects:
        desk.change(conversation.id, actor_of(principal), effects, now)
        session.refresh(item)
    return item


_COLUMNS = ("external_ref", "status", "amount", "currency")


def _current(item: BusinessObject, name: str) -> object:
    if name in _COLUMNS:
        return getattr(item, name)
    return (item.fields or {}).get(name)


def link_to_conversation(
    desk: Desk, principal: Principal, conversation_id: int, object_id: int, now: datetime
) -> BusinessObject:
    session = desk.session
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
