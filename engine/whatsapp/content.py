"""How a WhatsApp message's content is kept on a Message row: type, text, media reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.whatsapp.events import (
    ButtonContent,
    ContactsContent,
    InteractiveReplyContent,
    LocationContent,
    MediaContent,
    MessageContent,
    NoContent,
    OrderContent,
    ReactionContent,
    SystemContent,
    TextContent,
    UnsupportedContent,
)
from engine.models import MessageType

_DIRECT_TYPES = {member.value for member in MessageType}
WELCOME = "The customer opened the chat for the first time."


@dataclass(frozen=True)
class StoredContent:
    type: str
    body: str | None
    media: dict[str, Any] | None


def stored_content(message_type: str, content: MessageContent) -> StoredContent:
    """The searchable text and the media reference of one inbound message.

    Every customer-written string here is untrusted: it is stored as given and
    escaped wherever it is shown.
    """
    kind = message_type if message_type in _DIRECT_TYPES else MessageType.UNSUPPORTED
    match content:
        case TextContent(body=body):
            return StoredContent(kind, body, None)
        case MediaContent():
            media = {
                "provider": "whatsapp",
                "media_id": content.media_id,
                "mime_type": content.mime_type,
                "sha256": content.sha256,
                "filename": content.filename,
                "voice": content.voice,
            }
            return StoredContent(
                kind, content.caption, {k: v for k, v in media.items() if v is not None}
            )
        case LocationContent():
            place = ", ".join(part for part in (content.name, content.address) if part)
            text = place or f"{content.latitude:.5f}, {content.longitude:.5f}"
            return StoredContent(
                kind, text, {"latitude": content.latitude, "longitude": content.longitude}
            )
        case ContactsContent(contacts=contacts):
            names = ", ".join(filter(None, (c.formatted_name for c in contacts)))
            return StoredContent(kind, names or "shared contacts", None)
        case InteractiveReplyContent():
            # The tapped button's or row's id is kept: rules read it as `message.payload`.
            reply = {"payload": content.reply_id} if content.reply_id else None
            return StoredContent(kind, content.title or content.reply_id, reply)
        case ButtonContent():
            tapped = {"payload": content.payload} if content.payload else None
            return StoredContent(kind, content.text or content.payload, tapped)
        case ReactionContent():
            return StoredContent(kind, content.emoji or "", {"reacted_to": content.message_id})
        case OrderContent():
            lines = [content.text or "Order"]
            lines += [
                f"{item.quantity:g} x {item.product_retailer_id}"
                if item.quantity is not None
                else f"{item.product_retailer_id}"
                for item in content.items
            ]
            return StoredContent(MessageType.UNSUPPORTED, "\n".join(lines), None)
        case SystemContent():
            return StoredContent(MessageType.UNSUPPORTED, content.body, None)
        case NoContent(type_name="request_welcome"):
            return StoredContent(MessageType.UNSUPPORTED, WELCOME, None)
        case NoContent():
            return StoredContent(MessageType.UNSUPPORTED, cannot_show(message_type), None)
        case UnsupportedContent():
            what = content.unsupported_type or message_type or "a message"
            return StoredContent(MessageType.UNSUPPORTED, cannot_show(what), None)
    if kind == MessageType.UNSUPPORTED:  # an unknown type, or a known one without its object
        return StoredContent(kind, cannot_show(message_type or "a message"), None)
    return StoredContent(kind, None, None)


def cannot_show(what: str) -> str:
    return f"The customer sent something WhatsApp cannot show here: {what}"
