"""WhatsApp media through the outbox: downloading what customers send, uploading ours.

A customer's file arrives as a media id. Storing the message also writes, in the same
transaction, an outbox row of kind `whatsapp.media_download`, so the download has what
every outbox row has (DESIGN rule 6): a lease two workers cannot both win, the
sweeper's re-enqueue when a worker dies, retries with backoff, and a `failed` state
with its reason when it gives up. The file is verified against the SHA-256 WhatsApp
named and kept once per message (a unique key settles a race).

A file staff attach is stored first; the send executor asks `upload_for_send` for a
WhatsApp media id just before sending, reusing one uploaded recently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.core.media import (
    STORE_LIMIT,
    MediaFailure,
    MediaTransfer,
    base_type,
    clean_file_name,
    digest,
    limit_for,
    sha256_matches,
)
from engine.db import workspace_session
from engine.models import MediaFile, Message, OutboxRow
from engine.outbox.dispatch import ExecutionFailed, OutboxWork

DOWNLOAD_KIND = "whatsapp.media_download"
# WhatsApp keeps a business's uploads about 30 days; reuse one well inside that.
REUSE_UPLOAD_FOR = timedelta(days=25)

MediaFor = Callable[[int, str], MediaTransfer]
"""(workspace id, business number) → the media endpoints for that number."""


def queue_media_download(
    session: Session, message: Message, business_number: str, now: datetime
) -> OutboxRow | None:
    """Owe the download of an inbound message's file, in the caller's transaction."""
    media = message.media or {}
    media_id = media.get("media_id")
    if not isinstance(media_id, str) or not media_id:
        return None
    row = OutboxRow(
        kind=DOWNLOAD_KIND,
        payload={
            "message_id": message.id,
            "media_id": media_id,
            "business_number": business_number,
        },
        idempotency_key=f"media:{message.id}",
        conversation_id=message.conversation_id,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row


def make_download_executor(media_for: MediaFor) -> Callable[[OutboxWork], None]:
    def download_media(work: OutboxWork) -> None:
        message_id = int(work.payload["message_id"])
        with workspace_session(work.db, work.workspace_id) as session:
            message = session.get(Message, message_id)
            if message is None or _stored_file(session, message_id) is not None:
                return  # the message is gone, or an earlier run stored the file
            media: dict[str, Any] = dict(message.media or {})
        declared = str(media.get("mime_type") or "")
        limit = limit_for(declared) if declared else STORE_LIMIT
        transfer = media_for(work.workspace_id, str(work.payload["business_number"]))
        fetched = transfer.fetch_media(str(work.payload["media_id"]), max_bytes=limit)
        if isinstance(fetched, MediaFailure):
            raise ExecutionFailed(_reason(fetched), retryable=fetched.retryable)
        if not (
            sha256_matches(fetched.data, media.get("sha256"))
            and sha256_matches(fetched.data, fetched.sha256)
        ):
            # A damaged transfer may come right next time; a persistent one ends failed.
            raise ExecutionFailed(
                "sha256_mismatch: the downloaded file does not match the SHA-256 WhatsApp "
                "named for it",
                retryable=True,
            )
        mime_type = (declared or fetched.mime_type or "application/octet-stream")[:255]
        if len(fetched.data) > limit_for(mime_type):
            raise ExecutionFailed(
                f"too_large: {len(fetched.data)} bytes is more than Kazi keeps of "
                f"{base_type(mime_type) or 'this type'}",
                retryable=False,
            )
        _store(work, message_id, media, fetched.data, mime_type)

    return download_media


def _store(
    work: OutboxWork, message_id: int, media: dict[str, Any], data: bytes, mime_type: str
) -> None:
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        file = MediaFile(
            message_id=message_id,
            origin="inbound",
            sha256=digest(data),
            mime_type=mime_type,
            size=len(data),
            file_name=clean_file_name(media.get("filename")) or None,
            content=data,
            provider_media_id=str(work.payload["media_id"]),
            created_at=work.now,
        )
        session.add(file)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # another worker stored it first: the same file
            return
        message.media = {**(message.media or {}), "media_file_id": file.id, "size": len(data)}
        session.commit()


def _stored_file(session: Session, message_id: int) -> int | None:
    return session.scalar(select(MediaFile.id).where(MediaFile.message_id == message_id))


def _reason(failure: MediaFailure) -> str:
    detail = f" ({failure.detail})" if failure.detail else ""
    return f"{failure.code}: {failure.meaning}{detail}"


# --- uploading for a send -------------------------------------------------------------


def make_uploader(media_for: MediaFor) -> Callable[[OutboxWork], str]:
    """For the send executor: the WhatsApp media id of the file attached to the row's
    message, uploading it unless a recent upload can be reused."""

    def upload_for_send(work: OutboxWork) -> str:
        message_id = int(work.payload["message_id"])
        with workspace_session(work.db, work.workspace_id) as session:
            file = session.scalars(
                select(MediaFile).where(MediaFile.message_id == message_id)
            ).first()
            if file is None:
                raise ExecutionFailed("the attached file is gone", retryable=False)
            uploaded = file.provider_media_uploaded_at
            if file.provider_media_id and uploaded and work.now - uploaded < REUSE_UPLOAD_FOR:
                return file.provider_media_id
            data, mime_type = file.content, file.mime_type
            file_name = file.file_name or "file"
        transfer = media_for(work.workspace_id, str(work.payload["business_number"]))
        result = transfer.upload_media(data, mime_type=mime_type, file_name=file_name)
        if isinstance(result, MediaFailure):
            raise ExecutionFailed(_reason(result), retryable=result.retryable)
        with workspace_session(work.db, work.workspace_id) as session:
            stored = session.scalars(
                select(MediaFile).where(MediaFile.message_id == message_id)
            ).first()
            if stored is not None:
                stored.provider_media_id = result.media_id
                stored.provider_media_uploaded_at = work.now
                session.commit()
        return result.media_id

    return upload_for_send
