"""Queueing outbound messages: the Message (state `queued`) and the outbox row that sends it.

Written in the caller's transaction; nothing leaves the machine until it commits and
a worker runs the row (DESIGN rule 6). The executor that sends (engine.whatsapp.outbound)
re-checks the 24-hour window when it runs (DESIGN rule 4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.conversations.tallies import message_stored
from engine.core.rich import OUTSIDE_WINDOW_RICH, RichMessage, preview, problem, to_spec
from engine.core.step import OUTSIDE_WINDOW
from engine.core.step.reducer import SERVICE_WINDOW
from engine.models import (
    AuthorKind,
    Conversation,
    DeliveryState,
    Direction,
    Message,
    MessageReaction,
    OutboxRow,
    Reactor,
)

SEND_KIND = "whatsapp.send"
READ_KIND = "whatsapp.read"
OUTSIDE_WINDOW_MEANING = OUTSIDE_WINDOW


class OutsideWindow(Exception):
    """Free text was asked for after WhatsApp's 24-hour window closed (DESIGN rule 9)."""


def window_closes_at(conversation: Conversation) -> datetime | None:
    """When free text stops being allowed; None if the customer never wrote."""
    if conversation.last_customer_message_at is None:
        return None
    return conversation.last_customer_message_at + SERVICE_WINDOW


def window_is_open(conversation: Conversation, now: datetime) -> bool:
    closes = window_closes_at(conversation)
    return closes is not None and now < closes


def queue_text(
    session: Session,
    *,
    conversation_id: int,
    body: str,
    author_teammate_id: int | None,
    now: datetime,
    reply_to_message_id: int | None = None,
    author_rule: str | None = None,
) -> Message:
    conversation = _conversation(session, conversation_id)
    if not window_is_open(conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_MEANING)
    reply_to = session.get(Message, reply_to_message_id) if reply_to_message_id else None
    spec: dict[str, Any] = {"type": "text", "body": body}
    if reply_to is not None and reply_to.provider_message_id:
        spec["reply_to"] = reply_to.provider_message_id
    return _queue(
        session, conversation, "text", body, spec, author_teammate_id, author_rule, now, reply_to
    )


def queue_media(
    session: Session,
    *,
    conversation_id: int,
    kind: str,
    link: str | None,
    author_teammate_id: int | None,
    now: datetime,
    caption: str | None = None,
    filename: str | None = None,
) -> Message:
    """An image, video, audio, document or sticker (inside the window): by public link,
    or with `link=None` the file the caller stores for this message (a MediaFile), which
    the executor uploads to WhatsApp just before sending."""
    conversation = _conversation(session, conversation_id)
    if not window_is_open(conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_MEANING)
    spec = {
        "type": "media",
        "kind": kind,
        "link": link,
        "caption": caption,
        "filename": filename,
        "stored": link is None,
    }
    message = _queue(
        session,
        conversation,
        kind,
        caption or filename or kind,
        spec,
        author_teammate_id,
        None,
        now,
        None,
    )
    message.media = {"link": link, "filename": filename}
    return message


def queue_buttons(
    session: Session,
    *,
    conversation_id: int,
    body: str,
    buttons: list[tuple[str, str]],
    author_teammate_id: int | None,
    now: datetime,
    author_rule: str | None = None,
) -> Message:
    """A text with up to three reply buttons, each (id, title); the tap comes back as a
    `button_reply` with the id (inside the window)."""
    conversation = _conversation(session, conversation_id)
    if not window_is_open(conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_MEANING)
    if not 1 <= len(buttons) <= 3:
        raise ValueError("WhatsApp allows one to three reply buttons")
    spec = {"type": "buttons", "body": body, "buttons": [list(b) for b in buttons]}
    shown = body + "\n" + " · ".join(f"[{title}]" for _, title in buttons)
    return _queue(
        session,
        conversation,
        "interactive",
        shown,
        spec,
        author_teammate_id,
        author_rule,
        now,
        None,
    )


_RICH_TYPES = {
    "buttons": "interactive",
    "list": "interactive",
    "location": "location",
    "contact": "contacts",
    "reaction": "reaction",
}


def queue_rich(
    session: Session,
    *,
    conversation_id: int,
    message: RichMessage,
    author_teammate_id: int | None,
    now: datetime,
    author_rule: str | None = None,
) -> Message:
    """Buttons, a list, a location, a contact card or a reaction (engine.core.rich), checked
    against WhatsApp's limits and the 24-hour window, queued like any send. A reaction
    also shows at once on the message it is for."""
    conversation = _conversation(session, conversation_id)
    why = problem(message)
    if why is not None:
        raise ValueError(why)
    if not window_is_open(conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_RICH)
    spec = to_spec(message)
    target: Message | None = None
    if message.kind == "reaction":
        target = session.get(Message, message.react_to) if message.react_to else None
        if target is None or target.conversation_id != conversation.id:
            raise ValueError("the message to react to is not in this conversation")
        if not target.provider_message_id:
            raise ValueError("that message has not reached WhatsApp yet; react once it has")
        spec["reacted_to"] = target.provider_message_id
    queued = _queue(
        session,
        conversation,
        _RICH_TYPES[message.kind],
        preview(message),
        spec,
        author_teammate_id,
        author_rule,
        now,
        target,
    )
    queued.media = {"rich": spec}
    if target is not None:
        _business_reaction(session, target, message.emoji, now)
    return queued


def _business_reaction(session: Session, target: Message, emoji: str, now: datetime) -> None:
    reaction = session.scalars(
        select(MessageReaction).where(
            MessageReaction.message_id == target.id, MessageReaction.reactor == Reactor.BUSINESS
        )
    ).first()
    if reaction is None:
        reaction = MessageReaction(message_id=target.id, reactor=Reactor.BUSINESS, reacted_at=now)
        session.add(reaction)
    reaction.emoji = emoji or None
    reaction.reacted_at = now
    session.flush()


def queue_read_receipt(session: Session, *, message: Message, now: datetime) -> None:
    """Blue ticks for a customer's message (and the earlier ones in that chat), once."""
    if message.direction != Direction.INBOUND or not message.provider_message_id:
        return
    key = f"read:{message.provider_message_id}"[:255]
    if session.scalar(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)):
        return
    session.add(
        OutboxRow(
            kind=READ_KIND,
            payload={
                "provider_message_id": message.provider_message_id,
                "business_number": message.conversation.business_number,
            },
            idempotency_key=key,
            conversation_id=message.conversation_id,
            next_attempt_at=now,
        )
    )
    session.flush()


def queue_template(
    session: Session,
    *,
    conversation_id: int,
    template_name: str,
    language: str,
    parameters: list[str],
    author_teammate_id: int | None,
    now: datetime,
    preview: str | None = None,
    author_rule: str | None = None,
    header_parameters: list[str] | None = None,
) -> Message:
    """A template may be sent at any time; `preview` is the filled text staff will see.
    `parameters` fill the body's {{1}}, {{2}} ...; `header_parameters` the header's."""
    conversation = _conversation(session, conversation_id)
    spec = {
        "type": "template",
        "name": template_name,
        "language": language,
        "body_parameters": list(parameters),
        "header_parameters": list(header_parameters or []),
    }
    shown = preview or f"[template {template_name}] " + " · ".join(parameters)
    return _queue(
        session, conversation, "template", shown, spec, author_teammate_id, author_rule, now, None
    )


def retry_failed_message(session: Session, message_id: int, now: datetime) -> Message:
    """Staff retry of a failed send: the only way a message leaves `failed` (rule 3)."""
    message = session.get(Message, message_id)
    if message is None or message.direction != Direction.OUTBOUND:
        raise LookupError(f"no outbound message {message_id}")
    unknown = message.failure_code == "unknown"  # WhatsApp may have it: a person decides
    if message.delivery_state != DeliveryState.FAILED and not unknown:
        raise ValueError("only a failed message, or one whose outcome is unknown, can be retried")
    row = _row_of(session, message)
    if row is None:
        raise LookupError(f"message {message_id} has no outbox row to retry")
    if row.payload.get("type") == "text" and not window_is_open(message.conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_MEANING)
    message.delivery_state = DeliveryState.QUEUED
    message.failure_code = message.failure_detail = None
    row.state, row.attempts, row.next_attempt_at = "queued", 0, now
    row.enqueued_at = None
    row.last_error = None
    session.flush()
    return message


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise LookupError(f"no conversation {conversation_id}")
    return conversation


def _key_of(message: Message) -> str:
    return f"message:{message.id}"


def _row_of(session: Session, message: Message) -> OutboxRow | None:
    """The outbox row sending `message`: by its own key, or (a broadcast's, keyed by
    broadcast and contact) among its conversation's send rows."""
    row = session.scalars(
        select(OutboxRow).where(OutboxRow.idempotency_key == _key_of(message))
    ).first()
    if row is not None:
        return row
    for candidate in session.scalars(
        select(OutboxRow).where(
            OutboxRow.conversation_id == message.conversation_id, OutboxRow.kind == SEND_KIND
        )
    ):
        if candidate.payload.get("message_id") == message.id:
            return candidate
    return None


def _queue(
    session: Session,
    conversation: Conversation,
    message_type: str,
    shown: str,
    spec: dict[str, Any],
    author_teammate_id: int | None,
    author_rule: str | None,
    now: datetime,
    reply_to: Message | None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        type=message_type,
        body=shown,
        author_kind=AuthorKind.RULE if author_rule else AuthorKind.TEAMMATE,
        author_teammate_id=author_teammate_id,
        author_rule=author_rule,
        replied_to_id=reply_to.id if reply_to else None,
        delivery_state=DeliveryState.QUEUED,
        provider_timestamp=now,
    )
    session.add(message)
    session.flush()
    message_stored(session, message, conversation)
    session.add(
        OutboxRow(
            kind=SEND_KIND,
            payload={
                "message_id": message.id,
                "business_number": conversation.business_number,
                **spec,
            },
            idempotency_key=_key_of(message),
            conversation_id=conversation.id,
            next_attempt_at=now,
        )
    )
    if author_teammate_id is not None:
        # A teammate answering has read the chat: the customer sees blue ticks.
        latest = session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND
            )
            .order_by(Message.provider_timestamp.desc(), Message.id.desc())
            .limit(1)
        ).first()
        if latest is not None:
            queue_read_receipt(session, message=latest, now=now)
    session.flush()
    return message
