"""Files in a conversation: attaching one to send, and handing one to a teammate who may see it.

Attaching stores the file and queues its send in the caller's transaction (the
outbox uploads it to WhatsApp just before sending). Every file, inbound or
outbound, is served only through `file_for_viewer`: it is found in the viewer's
workspace or not at all, and the one authorisation policy decides whether they may
see the conversation it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.core.media import (
    INLINE_IMAGES,
    MAX_CAPTION,
    MediaRefused,
    base_type,
    check_attachment,
    digest,
    serving,
)
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.models import MediaFile, Message, OutboxRow, OutboxState
from engine.outbox.sends import OutsideWindow, queue_media
from engine.whatsapp.media import DOWNLOAD_KIND


def attach_file(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    *,
    data: bytes,
    mime_type: str | None,
    file_name: str | None,
    caption: str | None,
    now: datetime,
) -> Message:
    """Queue `data` to go to the customer as an image, video, audio or document."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    try:
        attachment = check_attachment(data, mime_type, file_name)
    except MediaRefused as refused:
        raise InvalidInput(str(refused)) from None
    text = (caption or "").strip() or None
    if text is not None and len(text) > MAX_CAPTION:
        raise InvalidInput(f"a caption may have at most {MAX_CAPTION} characters")
    if text is not None and attachment.kind == "audio":
        raise InvalidInput("WhatsApp sends audio without a caption; leave it empty")
    try:
        message = queue_media(
            session,
            conversation_id=conversation.id,
            kind=attachment.kind,
            link=None,
            author_teammate_id=principal.teammate_id,
            now=now,
            caption=text,
            filename=attachment.file_name if attachment.kind == "document" else None,
        )
    except OutsideWindow as closed:
        raise Conflict(str(closed)) from None
    file = MediaFile(
        message_id=message.id,
        origin="outbound",
        sha256=digest(data),
        mime_type=attachment.mime_type,
        size=len(data),
        file_name=attachment.file_name,
        content=data,
        created_at=now,
    )
    session.add(file)
    session.flush()
    message.body = text
    message.media = {
        "media_file_id": file.id,
        "mime_type": attachment.mime_type,
        "filename": attachment.file_name,
        "size": len(data),
    }
    session.flush()
    # A file is a reply like any other: the conversation now waits on the customer.
    desk.change(conversation.id, actor_of(principal), [fx.Replied("")], now)
    return message


@dataclass(frozen=True)
class ServedFile:
    data: bytes
    content_type: str
    disposition: str
    inline: bool


def file_for_viewer(session: Session, principal: Principal, media_file_id: int) -> ServedFile:
    """The file, if this principal may see the conversation it was sent in."""
    file = session.get(MediaFile, media_file_id)
    if file is None:
        raise NotFound(f"no file {media_file_id}")
    message = session.get(Message, file.message_id)
    if message is None:
        raise NotFound(f"no file {media_file_id}")
    conversation_for(session, principal, message.conversation_id, Action.VIEW_CONVERSATION)
    how = serving(file.mime_type, file.file_name, file.content)
    return ServedFile(file.content, how.content_type, how.disposition, how.inline)


def timeline_media(media: dict[str, Any], download_failure: str | None = None) -> dict[str, Any]:
    """A message's media reference as the timeline shows it: a stored file to link
    (an image as a thumbnail), a customer's file still being downloaded, or one Kazi
    gave up fetching (`download_failure`, the failed download's reason)."""
    file_id = media.get("media_file_id")
    stored = isinstance(file_id, int)
    size = media.get("size")
    owed = bool(media.get("media_id")) and not stored
    return {
        "media_file_id": file_id if stored else None,
        "media_size": size if isinstance(size, int) else None,
        "media_image": stored and base_type(media.get("mime_type")) in INLINE_IMAGES,
        "media_pending": owed and download_failure is None,
        "media_unavailable": unavailable_text(download_failure)
        if owed and download_failure
        else None,
    }


# Reasons (the download's `code: meaning`) that say WhatsApp no longer has the file.
GONE_CODES = ("not_found", "http_404", "http_410", "100", "131052")


def unavailable_text(reason: str) -> str:
    code = reason.split(":", 1)[0].strip()
    if code in GONE_CODES:
        return f"Expired: WhatsApp no longer has this file ({reason})."
    return f"The file could not be fetched from WhatsApp: {reason}"


def failed_downloads(session: Session, conversation_id: int) -> dict[int, str]:
    """The conversation's customer files Kazi gave up fetching: message id → reason."""
    found: dict[int, str] = {}
    for row in session.scalars(
        select(OutboxRow).where(
            OutboxRow.kind == DOWNLOAD_KIND,
            OutboxRow.state == OutboxState.FAILED,
            OutboxRow.conversation_id == conversation_id,
        )
    ):
        message_id = row.payload.get("message_id")
        if isinstance(message_id, int):
            found[message_id] = row.last_error or "no reason was recorded"
    return found
