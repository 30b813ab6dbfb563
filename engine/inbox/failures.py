"""What did not work, in one list: sends WhatsApp refused, events Kazi could not apply.

Each failed send carries the provider's code and its meaning for staff; each failed
or flagged inbound event its error. Both can be retried from the list (a send also
from its conversation), and nothing here is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, literal_column, or_, select
from sqlalchemy.orm import Session

from connectors.whatsapp.errors import classify
from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbound.processing import reopen_failed_event
from engine.inbox.errors import NotFound
from engine.inbox.lookup import conversation_for
from engine.inbox.queues import display_name
from engine.models import (
    Contact,
    Conversation,
    InboundEvent,
    Message,
    OutboxRow,
    UnmatchedItem,
    UnmatchedState,
)
from engine.models.states import OutboxState
from engine.whatsapp.media import DOWNLOAD_KIND

LIMIT = 200


def meaning_of(code: str | None, detail: str | None) -> str:
    """What a failed send's code means for staff: the provider's words when kept."""
    if detail:
        return detail
    if code == "unknown":
        return "No answer from WhatsApp: it may or may not have been sent."
    return classify(int(code) if code and code.isdigit() else None).meaning


@dataclass(frozen=True)
class FailedSend:
    message_id: int
    conversation_id: int
    customer: str
    body: str | None
    code: str | None
    meaning: str
    at: datetime | None


@dataclass(frozen=True)
class FailedEvent:
    event_id: int
    provider: str
    state: str  # "failed" (tried and gave up) or "flagged" (malformed or unknown, kept)
    error: str | None
    attempts: int
    received_at: datetime


@dataclass(frozen=True)
class FailedDownload:
    """A customer's file Kazi gave up fetching from WhatsApp."""

    message_id: int
    conversation_id: int | None
    error: str | None
    attempts: int
    at: datetime | None


@dataclass(frozen=True)
class UnmatchedUpdate:
    """A WhatsApp status, reaction, edit or revoke about a message Kazi does not have:
    `waiting` for it, or `orphaned` once it clearly is not coming."""

    kind: str
    summary: str
    message: str  # the provider's id of the message it is about
    state: str
    event_id: int | None
    at: datetime


@dataclass(frozen=True)
class Failures:
    sends: list[FailedSend]
    events: list[FailedEvent]
    downloads: list[FailedDownload] = field(default_factory=list)
    unmatched: list[UnmatchedUpdate] = field(default_factory=list)


# Values written as literals, not parameters, so PostgreSQL matches the partial index
# ix_messages_failed_sends (engine.models.conversations.FAILED_SEND_SQL): a generic
# plan cannot prove that `= $1` implies the index's predicate.
FAILED_SEND = and_(
    Message.direction == literal_column("'outbound'"),
    or_(
        Message.delivery_state == literal_column("'failed'"),
        Message.failure_code == literal_column("'unknown'"),
    ),
)


def list_failures(session: Session, principal: Principal) -> Failures:
    require(principal, Action.VIEW_REPORTS)
    sends = session.execute(
        select(Message, Contact)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(FAILED_SEND)
        .order_by(Message.id.desc())
        .limit(LIMIT)
    )
    events = session.scalars(
        select(InboundEvent)
        .where(InboundEvent.state.in_(("failed", "flagged")))
        .order_by(InboundEvent.id.desc())
        .limit(LIMIT)
    )
    downloads = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.kind == DOWNLOAD_KIND, OutboxRow.state == OutboxState.FAILED)
        .order_by(OutboxRow.id.desc())
        .limit(LIMIT)
    )
    unmatched = session.scalars(
        select(UnmatchedItem)
        .where(UnmatchedItem.state != UnmatchedState.APPLIED)
        .order_by(UnmatchedItem.id.desc())
        .limit(LIMIT)
    )
    return Failures(
        unmatched=[
            UnmatchedUpdate(
                kind=row.kind,
                summary=row.summary,
                message=row.target_provider_message_id,
                state=row.state,
                event_id=row.inbound_event_id,
                at=row.received_at,
            )
            for row in unmatched
        ],
        sends=[
            FailedSend(
                message_id=message.id,
                conversation_id=message.conversation_id,
                customer=display_name(contact),
                body=message.body,
                code=message.failure_code,
                meaning=meaning_of(message.failure_code, message.failure_detail),
                at=message.provider_timestamp,
            )
            for message, contact in sends
        ],
        events=[
            FailedEvent(
                event_id=event.id,
                provider=event.provider,
                state=event.state,
                error=event.last_error,
                attempts=event.attempts,
                received_at=event.received_at,
            )
            for event in events
        ],
        downloads=[
            FailedDownload(
                message_id=int(row.payload["message_id"]),
                conversation_id=row.conversation_id,
                error=row.last_error,
                attempts=row.attempts,
                at=row.updated_at,
            )
            for row in downloads
        ],
    )


def retry_event(session: Session, principal: Principal, event_id: int) -> None:
    """Hand a failed inbound event back to the workers (the sweeper picks it up)."""
    require(principal, Action.VIEW_REPORTS)
    event = session.get(InboundEvent, event_id)
    if event is None or not reopen_failed_event(event):
        raise NotFound(f"no failed event {event_id}")


def retry_download(
    session: Session,
    principal: Principal,
    message_id: int,
    now: datetime,
    *,
    from_conversation: bool = False,
) -> int:
    """Fetch a customer's file again after Kazi gave up (WhatsApp keeps it for a while);
    the outbox row goes back to the queue as if new. Returns its conversation.

    From the failures page it is a manager's action; `from_conversation` (the "Fetch
    again" on the message itself) lets anyone who may see the conversation ask."""
    if not from_conversation:
        require(principal, Action.VIEW_REPORTS)
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    conversation_for(session, principal, message.conversation_id, Action.VIEW_CONVERSATION)
    rows = session.scalars(
        select(OutboxRow).where(
            OutboxRow.kind == DOWNLOAD_KIND,
            OutboxRow.state == OutboxState.FAILED,
            OutboxRow.conversation_id == message.conversation_id,
        )
    ).all()
    mine = [r for r in rows if int(r.payload.get("message_id", 0)) == message.id]
    if not mine:
        raise NotFound(f"no failed download for message {message_id}")
    for download in mine:
        download.state, download.attempts, download.next_attempt_at = "queued", 0, now
        download.enqueued_at = None
        download.last_error = None
    return message.conversation_id
