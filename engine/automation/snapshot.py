"""What rules read, built from the database: the conversation, its contact, its objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.core.config import WorkspaceConfig
from engine.core.rules.events import Snapshot
from engine.models import BusinessObject, Contact, Conversation, Identity, Message


def conversation_snapshot(
    session: Session, conversation: Conversation, config: WorkspaceConfig
) -> Snapshot:
    """`config` names the business numbers: rules say `conversation.number is "support"`."""
    return Snapshot(
        conversation=_conversation(session, conversation, config),
        contact=_contact(session, conversation.contact),
        objects=_objects(conversation),
    )


def _conversation(
    session: Session, conversation: Conversation, config: WorkspaceConfig
) -> dict[str, Any]:
    last_outbound, messages = session.execute(
        select(
            func.max(Message.provider_timestamp).filter(Message.direction == "outbound"),
            func.count(),
        ).where(Message.conversation_id == conversation.id)
    ).one()
    number = next(
        (n.name for n in config.numbers if n.phone == conversation.business_number),
        conversation.business_number,
    )
    return {
        **dict(conversation.fields or {}),
        "id": conversation.id,
        "status": conversation.status,
        "owner": conversation.owner.handle if conversation.owner else None,
        "team": conversation.team.handle if conversation.team else None,
        "priority": conversation.priority,
        "pipeline": conversation.pipeline,
        "stage": conversation.stage,
        "tags": conversation.tag_names,
        "channel": "whatsapp",
        "number": number,
        "phone_number": conversation.business_number,
        "language": conversation.contact.language,
        "waiting_on": conversation.waiting_on,
        "opened_at": conversation.opened_at,
        "last_inbound_at": conversation.last_customer_message_at,
        "last_outbound_at": last_outbound,
        "messages": messages or 0,
    }


def _contact(session: Session, contact: Contact) -> dict[str, Any]:
    fields = dict(contact.fields or {})
    addresses = {
        channel: address
        for channel, address in session.execute(
            select(Identity.channel, Identity.address)
            .where(Identity.contact_id == contact.id, Identity.is_current.is_(True))
            .order_by(Identity.valid_from)
        )
    }
    phone = addresses.get("whatsapp") or addresses.get("phone")
    email = addresses.get("email")
    name = contact.name or contact.profile_name
    return {
        **fields,
        "id": contact.id,
        "name": name,
        "first_name": name.split()[0] if name else None,
        "phone": phone,
        "email": email,
        "language": contact.language,
        "company": contact.company.name if contact.company else None,
        "tags": list(fields.get("tags", [])) if isinstance(fields.get("tags"), list) else [],
        "created_at": contact.created_at,
        "opted_out": bool(fields.get("opted_out", False)),
        "conversations": session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.contact_id == contact.id)
        ),
    }


def _objects(conversation: Conversation) -> dict[str, dict[str, Any]]:
    """The newest linked business object of each kind, by its kind's name (`order.amount`)."""
    newest: dict[str, BusinessObject] = {}
    for item in conversation.business_objects:
        if item.kind not in newest or item.id > newest[item.kind].id:
            newest[item.kind] = item
    return {kind: business_object_view(item) for kind, item in newest.items()}


def business_object_view(item: BusinessObject) -> dict[str, Any]:
    return {
        **dict(item.fields or {}),
        "id": item.id,
        "kind": item.kind,
        "reference": item.external_ref,
        "status": item.status,
        "amount": float(item.amount) if item.amount is not None else None,
        "currency": item.currency,
        "stage": item.stage,
        "created_at": item.created_at,
    }


def message_view(message: Message) -> dict[str, Any]:
    media = message.media or {}
    return {
        "id": message.id,
        "text": message.body or "",
        "type": message.type,
        "caption": message.body if media.get("media_id") else None,
        "button": message.body if message.type in ("button", "interactive") else None,
        "file_name": media.get("filename"),
        "sent_at": message.provider_timestamp,
    }
