"""A stored message as rules read it (`message.text`, `message.button`, `message.payload`,
`message.file_name`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.db import TRANSACTION_BOUND, batch_cache
from engine.models import Message

_NEW = f"{TRANSACTION_BOUND}new_messages"


def stored_now(session: Session, message: Message) -> None:
    """In a worker's batch: remember the message just stored by this transaction (kept
    referenced, so `session.get` finds it without a query). Forgotten on rollback."""
    cache = batch_cache(session)
    if cache is not None:
        cache.setdefault(_NEW, {})[message.id] = message


def stored_by_this_transaction(session: Session, message_id: int) -> bool:
    """True when the batch's transaction stored this message itself: nothing another
    transaction wrote can refer to it yet."""
    cache = batch_cache(session)
    return cache is not None and message_id in cache.get(_NEW, {})


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
