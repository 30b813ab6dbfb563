"""A stored message as rules read it (`message.text`, `message.button`, `message.payload`,
`message.file_name`)."""

from __future__ import annotations

from typing import Any

from engine.models import Message


def message_view(message: Message) -> dict[str, Any]:
    media = message.media or {}
    return {
        "id": message.id,
        "text": message.body or "",
        "type": message.type,
        "caption": message.body if media.get("media_id") else None,
        "button": message.body if message.type in ("button", "interactive") else None,
        # The id of the button or list row tapped (ours: its title, unless the sender set one).
        "payload": (media.get("payload") or message.body)
        if message.type in ("button", "interactive")
        else None,
        "file_name": media.get("filename"),
        "sent_at": message.provider_timestamp,
    }
