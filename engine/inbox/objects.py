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
from engine.inbox.audit import actor_of, record
from engine.inbox.details import parsed_values
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.models import (
    BusinessObject,
    BusinessObjectKind,
    BusinessObjectLink,
    BusinessObjectRelation,
)

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
    given = str(values.get("amount") or "").strip()
    if item.line_items and given and _amount(given) == item.amount:
        values = {k: v for k, v in values.items() if k != "amount"}  # the sum, unchanged
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


MAX_LINES = 200


@dataclass(frozen=True)
class LineInput:
    """A line as typed: the text of each box, parsed exactly."""

    description: str
    quantity: str | int | float | Decimal | None = "1"
    unit_price: str | int | float | Decimal | None = "0"


def _exact(value: object, what: str) -> Decimal:
    text = str(value if value is not None else "").strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{what}: {value!r} is not a number") from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise InvalidInput(f"{what}: {value!r} is not a number")
    return number


def parse_lines(lines: list[LineInput]) -> tuple[fx.LineItem, ...]:
    """The lines to store; a wholly empty row (as a form's spare row sends) is skipped."""
    parsed = []
    for number, line in enumerate(lines, start=1):
        description = " ".join((line.description or "").split())[:300]
        quantity = str(line.quantity if line.quantity is not None else "").strip()
        price = str(line.unit_price if line.unit_price is not None else "").strip()
        if not description and quantity in ("", "1") and price in ("", "0"):
            continue
        if not description:
            raise InvalidInput(f"line {number}: say what it is (a description or product)")
        parsed.append(
            fx.LineItem(
                description,
                _exact(quantity or "1", f"line {number} quantity"),
                _exact(price or "0", f"line {number} unit price"),
            )
        )
    if len(parsed) > MAX_LINES:
        raise InvalidInput(f"an object may have at most {MAX_LINES} lines")
    return tuple(parsed)


def _on_conversation(session: Session, conversation_id: int, object_id: int) -> BusinessObject:
    item = session.scalars(
        select(BusinessObject)
        .join(BusinessObjectLink, BusinessObjectLink.business_object_id == BusinessObject.id)
        .where(
            BusinessObject.id == object_id, BusinessObjectLink.conversation_id == conversation_id
        )
    ).first()
    if item is None:
        raise NotFound(f"no business object {object_id} on this conversation")
    return item


def set_line_items(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    object_id: int,
    lines: list[LineInput],
    now: datetime,
) -> BusinessObject:
    """Replace the object's lines; its amount becomes their sum, in the workspace currency
    when it had none. Audited, and refused whole with the line at fault."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    item = _on_conversation(session, conversation.id, object_id)
    effect = fx.SetLineItems("", owner=item.kind, subject=db_key(item.id), items=parse_lines(lines))
    desk.change(conversation.id, actor_of(principal), [effect], now)
    session.refresh(item)
    return item


def related_objects(session: Session, object_id: int) -> list[BusinessObject]:
    """The objects linked to this one, either way round."""
    pairs = session.execute(
        select(BusinessObjectRelation.business_object_id, BusinessObjectRelation.related_id).where(
            (BusinessObjectRelation.business_object_id == object_id)
            | (BusinessObjectRelation.related_id == object_id)
        )
    ).tuples()
    ids = {a if b == object_id else b for a, b in pairs}
    if not ids:
        return []
    return list(
        session.scalars(
            select(BusinessObject).where(BusinessObject.id.in_(ids)).order_by(BusinessObject.id)
        )
    )


def find_object(session: Session, text: str) -> BusinessObject:
    """An object by its id (`12`, `#12`) or its reference (`ORD-1042`), in this workspace."""
    wanted = text.strip().lstrip("#")
    if not wanted:
        raise InvalidInput("name the object to link: its reference or number")
    found = session.scalars(
        select(BusinessObject)
        .where(BusinessObject.external_ref == wanted)
        .order_by(BusinessObject.id)
    ).first()
    if found is None and wanted.isdigit():
        found = session.get(BusinessObject, int(wanted))
    if found is None:
        raise NotFound(f"no order, booking or case {wanted!r}")
    return found


def link_objects(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    object_id: int,
    other: str,
    now: datetime,
) -> BusinessObject:
    """Link the object to an existing one (a case to the order it is about); audited."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    item = _on_conversation(session, conversation.id, object_id)
    target = find_object(session, other)
    if target.id == item.id:
        raise InvalidInput("an object cannot be linked to itself")
    low, high = sorted((item.id, target.id))
    exists = session.scalar(
        select(BusinessObjectRelation.id).where(
            BusinessObjectRelation.business_object_id == low,
            BusinessObjectRelation.related_id == high,
        )
    )
    if exists is None:
        session.add(BusinessObjectRelation(business_object_id=low, related_id=high, created_at=now))
        record(
            session,
            principal,
            "link_objects",
            subject_kind="business_object",
            subject_id=item.id,
            now=now,
            linked=target.id,
            reference=target.external_ref,
            conversation=conversation.id,
        )
        session.flush()
    return target


def unlink_objects(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    object_id: int,
    other_id: int,
    now: datetime,
) -> None:
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    item = _on_conversation(session, conversation.id, object_id)
    low, high = sorted((item.id, other_id))
    relation = session.scalars(
        select(BusinessObjectRelation).where(
            BusinessObjectRelation.business_object_id == low,
            BusinessObjectRelation.related_id == high,
        )
    ).first()
    if relation is None:
        raise NotFound("those two are not linked")
    session.delete(relation)
    record(
        session,
        principal,
        "unlink_objects",
        subject_kind="business_object",
        subject_id=item.id,
        now=now,
        unlinked=other_id,
        conversation=conversation.id,
    )
    session.flush()
