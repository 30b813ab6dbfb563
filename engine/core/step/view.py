"""The state as rule conditions read it: plain dicts named as in the rule language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.core.rules.effects import LineItem
from engine.core.rules.events import Snapshot
from engine.core.step.state import ContactState, ConversationState, ObjectState, State


def snapshot(state: State, focus: str | None = None) -> Snapshot:
    """`focus` is the object an event is about (a stage it entered, a payment for it): its
    kind's root reads that object; other kinds read their newest linked object."""
    objects: dict[str, dict[str, Any]] = {}
    for item in state.objects:
        objects[item.kind] = object_view(item)
    focused = state.object(focus)
    if focused is not None:
        objects[focused.kind] = object_view(focused)
    return Snapshot(
        conversation=conversation_view(state.conversation, state.contact),
        contact=contact_view(state.contact),
        objects=objects,
    )


def conversation_view(conversation: ConversationState, contact: ContactState) -> dict[str, Any]:
    return {
        **dict(conversation.fields),
        "id": conversation.id,
        "status": conversation.status,
        "owner": conversation.owner,
        "team": conversation.team,
        "priority": conversation.priority,
        "pipeline": conversation.pipeline,
        "stage": conversation.stage,
        "tags": list(conversation.tags),
        "channel": "whatsapp",
        "number": conversation.number,
        "phone_number": conversation.phone_number,
        "language": contact.language,
        "waiting_on": conversation.waiting_on,
        "opened_at": conversation.opened_at,
        "last_inbound_at": conversation.last_inbound_at,
        "last_outbound_at": conversation.last_outbound_at,
        "messages": conversation.messages,
    }


def contact_view(contact: ContactState) -> dict[str, Any]:
    fields = dict(contact.fields)
    name = contact.name or contact.profile_name
    tags = fields.get("tags")
    return {
        **fields,
        "id": contact.id,
        "name": name,
        "first_name": fields.get("first_name") or (name.split()[0] if name else None),
        "phone": contact.phone,
        "email": contact.email,
        "language": contact.language,
        "company": contact.company,
        "tags": list(tags) if isinstance(tags, list | tuple) else [],
        "created_at": contact.created_at,
        "opted_out": bool(fields.get("opted_out", False)),
        "conversations": contact.conversations,
    }


def object_view(item: ObjectState) -> dict[str, Any]:
    lines = {"items": items_text(item.items)} if item.items else {}
    return {
        **dict(item.fields),
        **lines,
        "item_count": len(item.items),
        "id": item.id,
        "kind": item.kind,
        "reference": item.reference,
        "status": item.status,
        "amount": float(item.amount) if item.amount is not None else None,
        "currency": item.currency,
        "pipeline": item.pipeline,
        "stage": item.stage,
        "created_at": item.created_at,
    }


def items_text(items: tuple[LineItem, ...]) -> str:
    """How an order's lines read in a message: `2 x Phone case @ 500; 1 x Charger @ 1,200`."""
    return "; ".join(
        f"{_number(line.quantity)} x {line.description} @ {money(line.unit_price)}"
        for line in items
    )


def money(amount: Decimal, currency: str | None = None) -> str:
    """`1,234.50`, whole amounts without decimals; prefixed by the currency when given."""
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{currency} {text}" if currency else text


def _number(value: Decimal) -> str:
    return str(value.normalize()) if value != value.to_integral_value() else str(int(value))
