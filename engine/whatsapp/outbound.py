"""Sending on WhatsApp through the outbox.

`queue_text` and `queue_template` write, in the caller's transaction, the
outbound Message (state `queued`) and the outbox row that will send it; nothing
leaves the machine until that transaction commits and a worker runs the row.
`send_outbox_message` is that worker's executor: it re-checks the 24-hour
window when it runs (DESIGN rule 4), sends outside any database transaction,
and records what the provider said on the Message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from engine.core.delivery import next_delivery_state
from engine.core.messaging import (
    MarkAsRead,
    MessageSender,
    OutboundButtons,
    OutboundMedia,
    OutboundMessage,
    OutboundTemplate,
    OutboundText,
    ReplyButton,
    SendAccepted,
    SendFailure,
    TextParameter,
)
from engine.db import workspace_session
from engine.models import (
    AuthorKind,
    Channel,
    Conversation,
    Direction,
    Identity,
    Message,
    OutboxRow,
    WaitingOn,
)
from engine.outbox.dispatch import Deferred, ExecutionFailed, OutboxWork
from engine.outbox.rate_limit import RateLimited
from engine.whatsapp.apply import release_waiting_statuses

SEND_KIND = "whatsapp.send"
READ_KIND = "whatsapp.read"
SERVICE_WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW_MEANING = (
    "The customer last wrote more than 24 hours ago: WhatsApp allows only an approved "
    "template now. Send a template instead."
)


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
    if message.delivery_state != "failed" and not unknown:
        raise ValueError("only a failed message, or one whose outcome is unknown, can be retried")
    row = session.scalars(
        select(OutboxRow).where(OutboxRow.idempotency_key == _key_of(message))
    ).first()
    if row is None:
        raise LookupError(f"message {message_id} has no outbox row to retry")
    if row.payload.get("type") == "text" and not window_is_open(message.conversation, now):
        raise OutsideWindow(OUTSIDE_WINDOW_MEANING)
    message.delivery_state = "queued"
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
        delivery_state="queued",
        provider_timestamp=now,
    )
    session.add(message)
    session.flush()
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
            .where(Message.conversation_id == conversation.id, Message.direction == "inbound")
            .order_by(Message.provider_timestamp.desc(), Message.id.desc())
            .limit(1)
        ).first()
        if latest is not None:
            queue_read_receipt(session, message=latest, now=now)
    conversation.waiting_on = WaitingOn.CUSTOMER
    conversation.status = "waiting_on_customer"
    session.flush()
    return message


# --- the executor -----------------------------------------------------------------------

SenderFor = Callable[[int, str], MessageSender]
"""(workspace id, business number) → a sender for that number."""

Uploader = Callable[[OutboxWork], str]
"""A send row's stored file → its WhatsApp media id (engine.whatsapp.media)."""


def make_send_executor(
    sender_for: SenderFor, upload: Uploader | None = None
) -> Callable[[OutboxWork], None]:
    def send_outbox_message(work: OutboxWork) -> None:
        business_number = _business_number_of(work)
        if business_number is None:
            return  # the message is gone
        try:
            sender = sender_for(work.workspace_id, business_number)
        except ExecutionFailed as failure:
            if not failure.retryable:
                _fail_outside(work, "configuration", failure.reason)
            raise
        # The per-number rate limit, asked before anything is marked: a send over the
        # limit waits its turn in the queue and stays `queued`.
        if isinstance(sender, RateLimited):
            wait = sender.admit(work.now)
            if wait > timedelta(0):
                raise Deferred(wait)
        if work.payload.get("type") == "media" and work.payload.get("stored"):
            work = _with_uploaded_media(work, upload)
        outbound = _prepare(work)
        if outbound is None:
            return
        result = sender.send(outbound, idempotency_key=work.idempotency_key)
        _record_result(work, result)

    return send_outbox_message


def _with_uploaded_media(work: OutboxWork, upload: Uploader | None) -> OutboxWork:
    """The row's stored file uploaded (or a recent upload reused), its id in the payload."""
    try:
        if upload is None:
            raise ExecutionFailed("this process cannot upload media", retryable=True)
        media_id = upload(work)
    except ExecutionFailed as failure:
        if not failure.retryable:
            _fail_outside(work, failure.reason.split(":", 1)[0], failure.reason)
        raise
    return replace(work, payload={**work.payload, "media_id": media_id})


def _business_number_of(work: OutboxWork) -> str | None:
    number = work.payload.get("business_number")
    if isinstance(number, str) and number:
        return number
    # Rows queued before the number was kept in the payload.
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        return message.conversation.business_number if message is not None else None


def _prepare(work: OutboxWork) -> OutboundMessage | None:
    """Re-read and re-check before sending; None when there is nothing left to send."""
    with workspace_session(work.db, work.workspace_id) as session:
        # One query for the message and its conversation: this runs for every send.
        message = session.get(
            Message, int(work.payload["message_id"]), options=[joinedload(Message.conversation)]
        )
        if message is None or message.delivery_state not in ("queued", "sending"):
            return None  # sent already, or retried into a new state by staff
        if message.delivery_state == "sending":
            # An earlier attempt died between marking the message and hearing WhatsApp's
            # answer (a killed worker, an expired lease): the request may have left.
            # Sending again could double it, so it is an unknown outcome like a timeout.
            _unknown(message)
            session.commit()
            raise ExecutionFailed(
                "an earlier attempt stopped mid-send; outcome unknown", retryable=False
            )
        conversation = message.conversation
        spec = work.payload
        if spec["type"] != "template" and not window_is_open(conversation, work.now):
            _fail(message, "131047", OUTSIDE_WINDOW_MEANING)
            session.commit()
            raise ExecutionFailed(OUTSIDE_WINDOW_MEANING, retryable=False)
        to = _recipient(session, conversation.contact_id)
        message.delivery_state = "sending"
        session.commit()
        if spec["type"] == "template":
            return OutboundTemplate(
                to=to,
                name=spec["name"],
                language=spec["language"],
                header=tuple(
                    TextParameter(str(value)) for value in spec.get("header_parameters", [])
                ),
                body=tuple(TextParameter(str(value)) for value in spec["body_parameters"]),
                callback_data=work.idempotency_key,
            )
        if spec["type"] == "media":
            return OutboundMedia(
                to=to,
                kind=spec["kind"],
                link=spec.get("link"),
                media_id=spec.get("media_id"),
                caption=spec.get("caption"),
                filename=spec.get("filename"),
                callback_data=work.idempotency_key,
            )
        if spec["type"] == "buttons":
            return OutboundButtons(
                to=to,
                body=spec["body"],
                buttons=tuple(ReplyButton(id, title) for id, title in spec["buttons"]),
                callback_data=work.idempotency_key,
            )
        return OutboundText(
            to=to,
            body=spec["body"],
            reply_to=spec.get("reply_to"),
            callback_data=work.idempotency_key,
        )


def make_read_executor(sender_for: SenderFor) -> Callable[[OutboxWork], None]:
    """Sends a read receipt; a receipt that cannot be sent is not worth a retry storm."""

    def send_read_receipt(work: OutboxWork) -> None:
        receipt = MarkAsRead(str(work.payload["provider_message_id"]))
        result = sender_for(work.workspace_id, str(work.payload["business_number"])).send(
            receipt, idempotency_key=work.idempotency_key
        )
        if isinstance(result, SendFailure):
            raise ExecutionFailed(f"{result.code}: {result.meaning}", retryable=result.retryable)

    return send_read_receipt


def _fail_outside(work: OutboxWork, code: str, meaning: str) -> None:
    """The send cannot be tried at all (no token, no integration): show it as failed."""
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        if message is not None and message.delivery_state == "queued":
            _fail(message, code, meaning)
            session.commit()


def _recipient(session: Session, contact_id: int) -> str:
    address = session.scalar(
        select(Identity.address).where(
            Identity.contact_id == contact_id,
            Identity.channel == Channel.WHATSAPP,
            Identity.is_current.is_(True),
        )
    )
    if address is None:
        raise ExecutionFailed("the contact has no current WhatsApp number", retryable=False)
    return address.lstrip("+")


def _record_result(work: OutboxWork, result: object) -> None:
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        if message is None:
            return
        if isinstance(result, SendAccepted):
            message.provider_message_id = result.provider_message_id
            message.delivery_state = next_delivery_state(message.delivery_state, "accepted")
            if result.provider_message_id:
                release_waiting_statuses(session, result.provider_message_id)
            session.commit()
            return
        if isinstance(result, SendFailure):
            if result.retryable:
                message.delivery_state = "queued"
                message.failure_code, message.failure_detail = result.code, result.meaning
                session.commit()
                retry_after = (
                    timedelta(seconds=result.retry_after_seconds)
                    if result.retry_after_seconds
                    else None
                )
                raise ExecutionFailed(
                    f"{result.code}: {result.meaning}", retryable=True, retry_after=retry_after
                )
            _fail(message, result.code, result.meaning)
            session.commit()
            raise ExecutionFailed(f"{result.code}: {result.meaning}", retryable=False)
        # Outcome unknown: WhatsApp may have the message. Never resend blindly; the
        # status webhook carrying our key (callback data) will tell, or staff decide.
        _unknown(message)
        session.commit()
        raise ExecutionFailed(f"outcome unknown: {result}", retryable=False)


def _unknown(message: Message) -> None:
    message.failure_code = "unknown"
    message.failure_detail = (
        "No answer from WhatsApp: the message may or may not have been sent. "
        "Kazi matches it when WhatsApp reports its status."
    )


def _fail(message: Message, code: str, meaning: str) -> None:
    message.delivery_state = "failed"
    message.failure_code = code
    message.failure_detail = meaning
