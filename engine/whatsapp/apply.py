"""Apply one stored WhatsApp webhook item to the customer record.

Runs inside the event's workspace transaction (engine.inbound.processing). An
inbound message resolves its contact, reuses or opens the conversation (locked
for the rest of the transaction), and is stored once by its wamid; a status
moves an outbound message's delivery state only upward and is always kept raw;
a number change moves the identity and keeps the contact.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.whatsapp.events import InboundMessage, StatusUpdate, SystemContent, WhatsAppEvent
from connectors.whatsapp.numbers import equivalent_wa_ids
from connectors.whatsapp.parse import parse_envelope
from engine.conversations.events import ConversationEvent
from engine.conversations.messages import message_view
from engine.conversations.tallies import message_stored
from engine.conversations.threads import lock_conversation, open_or_reuse_conversation
from engine.core.delivery import next_delivery_state
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.identity import (
    change_address,
    find_current_identity,
    identify,
    normalise_address,
    to_e164,
)
from engine.models import (
    AuthorKind,
    Channel,
    Direction,
    InboundEvent,
    Message,
    MessageStatusEvent,
    OutboxRow,
)
from engine.whatsapp.content import stored_content
from engine.whatsapp.media import queue_media_download


class StatusBeforeMessage(Exception):
    """A status arrived for a message we have not stored yet (the send's answer is
    still on its way). The event is retried later and applied once the message exists."""


def apply_whatsapp_event(
    session: Session, event: InboundEvent, now: datetime
) -> list[ConversationEvent]:
    """Apply the stored item; the domain events it caused, for the rule runtime."""
    happened: list[ConversationEvent] = []
    for item in parse_envelope(event.payload):
        happened += apply_item(session, item, inbound_event_id=event.id, now=now)
    return happened


def apply_item(
    session: Session, item: WhatsAppEvent, *, inbound_event_id: int | None, now: datetime
) -> list[ConversationEvent]:
    match item:
        case InboundMessage(content=SystemContent() as system) if (
            system.system_type == "user_changed_number" and system.new_wa_id and item.from_wa_id
        ):
            old = find_current_identity(session, Channel.WHATSAPP, _addresses(item.from_wa_id))
            if old is not None:
                change_address(session, old, system.new_wa_id, now)
        case InboundMessage() if item.is_echo:
            pass  # sent from the business's own phone app: shown once echoes are supported
        case InboundMessage():
            return _apply_message(session, item, now)
        case StatusUpdate():
            _apply_status(session, item, inbound_event_id, now)
        case _:
            pass  # account-level changes are stored raw on the event; nothing to apply
    return []


def _apply_message(
    session: Session, item: InboundMessage, now: datetime
) -> list[ConversationEvent]:
    if not item.from_wa_id:
        raise ValueError("message without a sender wa_id")
    if session.scalar(select(Message.id).where(Message.provider_message_id == item.message_id)):
        return []  # the same message under another webhook delivery
    sent_at = _instant(item.timestamp) or now
    contact = identify(
        session,
        Channel.WHATSAPP,
        item.from_wa_id,
        now,
        profile_name=item.sender.name if item.sender else None,
        equivalent_raw=equivalent_wa_ids(item.from_wa_id),
    )
    conversation, opened = open_or_reuse_conversation(
        session, contact_id=contact.id, business_number=_business_number(item), now=sent_at
    )
    replied_to_id = None
    if item.context and item.context.replied_to_id:
        replied_to_id = session.scalar(
            select(Message.id).where(Message.provider_message_id == item.context.replied_to_id)
        )
    content = stored_content(item.message_type, item.content)
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.INBOUND,
        type=content.type,
        body=content.body,
        media=content.media,
        provider_message_id=item.message_id,
        replied_to_id=replied_to_id,
        replied_to_provider_message_id=item.context.replied_to_id if item.context else None,
        author_kind=AuthorKind.CONTACT,
        author_contact_id=contact.id,
        provider_timestamp=sent_at,
    )
    session.add(message)
    # What the message does to the conversation (the window, waiting on us, waking a
    # snooze) is the reducer's, when the rules run on `message received`.
    session.flush()
    message_stored(session, message, conversation)
    queue_media_download(session, message, conversation.business_number, now)
    data = {"message": message_view(message)}
    happened = []
    if opened:
        opened_event = DomainEvent(
            TriggerKind.CONVERSATION_OPENED.value, f"opened:{conversation.id}", sent_at, data=data
        )
        happened.append(ConversationEvent(conversation.id, opened_event))
    received = DomainEvent(
        TriggerKind.MESSAGE_RECEIVED.value, f"message:{item.message_id}", sent_at, data=data
    )
    happened.append(ConversationEvent(conversation.id, received))
    return happened


def _apply_status(
    session: Session, item: StatusUpdate, inbound_event_id: int | None, now: datetime
) -> None:
    message = session.scalars(
        select(Message).where(
            Message.provider_message_id == item.message_id,
            Message.direction == Direction.OUTBOUND,
        )
    ).first()
    if message is None:
        message = _reconcile(session, item)
    if message is None:
        raise StatusBeforeMessage(f"status {item.status!r} for unknown message {item.message_id}")
    lock_conversation(session, message.conversation)
    error = item.errors[0] if item.errors else None
    session.add(
        MessageStatusEvent(
            message_id=message.id,
            status=item.status,
            error_code=str(error.code) if error and error.code is not None else None,
            provider_timestamp=_instant(item.timestamp),
            raw=item.raw if isinstance(item.raw, dict) else {"raw": item.raw},
            inbound_event_id=inbound_event_id,
            recorded_at=now,
        )
    )
    new_state = next_delivery_state(message.delivery_state, item.status)
    if new_state != message.delivery_state:
        message.delivery_state = new_state
        if new_state == "failed" and error is not None:
            message.failure_code = str(error.code) if error.code is not None else None
            message.failure_detail = error.details or error.title
    session.flush()


def _reconcile(session: Session, item: StatusUpdate) -> Message | None:
    """A status for a send whose answer never came (a timeout): our idempotency key rides
    back as callback data, so the message is found and learns its wamid now."""
    key = item.callback_data or ""
    if not key.startswith("message:") or not key[len("message:") :].isdigit():
        return None
    message = session.get(Message, int(key[len("message:") :]))
    if message is None or message.direction != Direction.OUTBOUND:
        return None
    if message.provider_message_id not in (None, item.message_id):
        return None
    message.provider_message_id = item.message_id
    if message.failure_code == "unknown":
        message.failure_code = message.failure_detail = None
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.idempotency_key == key, OutboxRow.state == "failed")
            .values(state="done", last_error=None)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return message


def release_waiting_statuses(session: Session, provider_message_id: str) -> None:
    """A send was just accepted: statuses that raced ahead of it may now be applied."""
    session.execute(
        update(InboundEvent)
        .where(
            InboundEvent.provider == "whatsapp",
            InboundEvent.state == "received",
            InboundEvent.dedup_key.contains(provider_message_id),
        )
        .values(lease_expires_at=None, enqueued_at=None)
        .execution_options(synchronize_session=False)
    )


def _addresses(wa_id: str) -> set[str]:
    return {normalise_address(Channel.WHATSAPP, form) for form in equivalent_wa_ids(wa_id)}


def _business_number(item: WhatsAppEvent) -> str:
    origin = item.origin
    if origin and origin.display_phone_number:
        return to_e164(origin.display_phone_number, strict=False)
    if origin and origin.phone_number_id:
        return origin.phone_number_id
    return "unknown"


def _instant(epoch_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None
