"""Apply one stored WhatsApp webhook item to the customer record.

Runs inside the event's workspace transaction (engine.inbound.processing). An
inbound message resolves its contact, reuses or opens the conversation (locked
for the rest of the transaction), and is stored once by its wamid; a status
moves an outbound message's delivery state only upward and is always kept raw;
a number change moves the identity and keeps the contact. Reactions, edits and
revokes change the message they are about (engine.whatsapp.changes); anything
about a message Kazi does not have yet waits for it (engine.whatsapp.unmatched).

Before any of that, the item must be for this workspace: a message on a number
that is not one of its configured numbers, or a sample from Meta's dashboard Test
button, is flagged for the admin and creates nothing (FlagForStaff).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.whatsapp.events import (
    EditContent,
    InboundMessage,
    OtherChange,
    OutOfBandError,
    ReactionContent,
    RevokeContent,
    StatusUpdate,
    SystemContent,
    UnsupportedContent,
    WhatsAppEvent,
)
from connectors.whatsapp.numbers import equivalent_wa_ids
from connectors.whatsapp.parse import parse_envelope
from engine.automation.runner import rules_in_force
from engine.conversations.events import ConversationEvent
from engine.conversations.messages import message_view, stored_now
from engine.conversations.tallies import message_stored
from engine.conversations.threads import lock_conversation, open_or_reuse_conversation
from engine.core.delivery import next_delivery_state
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import batch_cache
from engine.identity import (
    identify,
    to_e164,
)
from engine.inbound.processing import FlagForStaff, InboundHandler
from engine.models import (
    AuthorKind,
    Channel,
    Direction,
    InboundEvent,
    Message,
    MessageStatusEvent,
    OutboxRow,
    SentVia,
    UnmatchedItem,
    UnmatchedState,
)
from engine.whatsapp.account import (
    apply_account_change,
    apply_out_of_band_error,
    record_preference,
)
from engine.whatsapp.changes import apply_edit, apply_reaction, apply_revoke
from engine.whatsapp.content import stored_content
from engine.whatsapp.identities import apply_system, sender_contact
from engine.whatsapp.media import queue_media_download
from engine.whatsapp.unmatched import keep_unmatched, waiting_for
from engine.workspaces.directory import ConfigDirectory

# What the App Dashboard's "Test" button sends (reference §3): not a workspace's number.
TEST_SAMPLE_WABA_ID = "0"
TEST_SAMPLE_PHONE_NUMBER_ID = "123456123"

Numbers = Mapping[str, str]
"""A workspace's WhatsApp numbers: phone_number_id → the number in E.164."""


def make_whatsapp_handler(configs: ConfigDirectory) -> InboundHandler:
    """The worker's handler: applies each item against the numbers of the config in force
    (none when the workspace has no valid config, so nothing is attached blindly)."""

    def handle(session: Session, event: InboundEvent, now: datetime) -> list[ConversationEvent]:
        rules = rules_in_force(session, configs, event.workspace_id)
        numbers = {n.phone_number_id: n.phone for n in rules.config.numbers} if rules else {}
        return apply_whatsapp_event(session, event, now, numbers=numbers)

    return handle


def apply_whatsapp_event(
    session: Session, event: InboundEvent, now: datetime, numbers: Numbers | None = None
) -> list[ConversationEvent]:
    """Apply the stored item; the domain events it caused, for the rule runtime.

    `numbers` None applies without checking the number (tools and tests that build
    items for a known workspace); the worker always passes the config's numbers."""
    happened: list[ConversationEvent] = []
    for item in parse_envelope(event.payload):
        happened += apply_item(session, item, inbound_event_id=event.id, now=now, numbers=numbers)
    return [*happened, *catch_up(session, now)]


def apply_item(
    session: Session,
    item: WhatsAppEvent,
    *,
    inbound_event_id: int | None,
    now: datetime,
    numbers: Numbers | None = None,
) -> list[ConversationEvent]:
    check_belongs(item, numbers)
    match item:
        case InboundMessage(content=SystemContent() as system) if not item.is_echo:
            apply_system(session, item, system, now)
        case InboundMessage(content=ReactionContent() as reaction):
            return apply_reaction(session, item, reaction, inbound_event_id, now)
        case InboundMessage(content=EditContent() as edit):
            apply_edit(session, item, edit.original_message_id, edit, inbound_event_id, now)
        case InboundMessage(content=RevokeContent() as revoke):
            apply_revoke(session, item, revoke, inbound_event_id, now)
        case InboundMessage(content=UnsupportedContent(unsupported_type="edit")):
            # Plain Cloud API numbers report an edit this way (reference §5.13), without
            # the new text: the message is marked edited, its text kept.
            apply_edit(session, item, _edited_id(item), None, inbound_event_id, now)
        case InboundMessage() if item.is_echo:
            return _apply_echo(session, item, now, numbers)
        case InboundMessage():
            return _apply_message(session, item, now, numbers)
        case StatusUpdate():
            _apply_status(session, item, inbound_event_id, now)
        case OtherChange():
            apply_account_change(session, item, now)
        case OutOfBandError():
            apply_out_of_band_error(session, item, now)
        case _:
            pass  # a malformed part: stored flagged on its event, never applied
    return []


def check_belongs(item: WhatsAppEvent, numbers: Numbers | None) -> None:
    """Raise FlagForStaff unless the item may be applied in this workspace."""
    origin = item.origin
    if origin is None:
        return
    own = numbers or {}
    if (
        origin.waba_id == TEST_SAMPLE_WABA_ID
        or origin.phone_number_id == TEST_SAMPLE_PHONE_NUMBER_ID
    ) and origin.phone_number_id not in own:
        raise FlagForStaff(
            "A test sample from Meta's App Dashboard (the webhook Test button), not a "
            "customer: kept here as a test, no contact or conversation made. It shows the "
            "webhook reaches Kazi."
        )
    if numbers is None or isinstance(item, OtherChange):
        return  # account and template changes are about the business account, not a number
    number_id = origin.phone_number_id
    if number_id is None:
        if isinstance(item, StatusUpdate | OutOfBandError):
            return  # matched by the message's id within this workspace
        raise FlagForStaff(
            "A message without `metadata.phone_number_id`: Kazi cannot tell which of the "
            "workspace's numbers it came to, so it made no contact or conversation."
        )
    if number_id not in numbers:
        shown = f" ({origin.display_phone_number})" if origin.display_phone_number else ""
        known = ", ".join(sorted(numbers)) or "none"
        raise FlagForStaff(
            f"Arrived on WhatsApp phone number id {number_id}{shown}, which is not one of "
            f"this workspace's numbers (workspace.yaml has: {known}). Kept here; no contact "
            "or conversation made. If the number is yours, add it and retry this event."
        )


def _apply_message(
    session: Session,
    item: InboundMessage,
    now: datetime,
    numbers: Numbers | None,
) -> list[ConversationEvent]:
    if session.scalar(select(Message.id).where(Message.provider_message_id == item.message_id)):
        return []  # the same message under another webhook delivery
    sent_at = _instant(item.timestamp) or now
    contact = sender_contact(session, item, now)
    conversation, opened = open_or_reuse_conversation(
        session, contact_id=contact.id, business_number=_business_number(item, numbers), now=sent_at
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
    if item.errors or item.flagged:
        # What WhatsApp or the parser said about content Kazi cannot show (§5.12): kept.
        error = item.errors[0] if item.errors else None
        message.failure_code = str(error.code) if error and error.code is not None else None
        message.failure_detail = (
            "; ".join(
                part
                for part in (error.details or error.title if error else "", *item.problems)
                if part
            )[:2000]
            or None
        )
    session.add(message)
    # What the message does to the conversation (the window, waiting on us, waking a
    # snooze) is the reducer's, when the rules run on `message received`.
    session.flush()
    stored_now(session, message)
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
    return [*happened, *apply_waiting(session, item.message_id, now)]


def _apply_echo(
    session: Session,
    item: InboundMessage,
    now: datetime,
    numbers: Numbers | None,
) -> list[ConversationEvent]:
    """A message the business typed in the WhatsApp Business app (coexistence, §5.14):
    shown as outbound "sent from the phone app", a reply for the SLA clocks, and never
    run through the inbound automations (no `message received`, no `conversation opened`)."""
    customer = item.echo_to
    if not customer:
        raise FlagForStaff("A business-app echo without `to`: Kazi cannot tell which customer.")
    if session.scalar(select(Message.id).where(Message.provider_message_id == item.message_id)):
        return []
    sent_at = _instant(item.timestamp) or now
    contact = identify(
        session, Channel.WHATSAPP, customer, now, equivalent_raw=equivalent_wa_ids(customer)
    )
    conversation, _ = open_or_reuse_conversation(
        session, contact_id=contact.id, business_number=_business_number(item, numbers), now=sent_at
    )
    content = stored_content(item.message_type, item.content)
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        type=content.type,
        body=content.body,
        media=content.media,
        provider_message_id=item.message_id,
        replied_to_provider_message_id=item.context.replied_to_id if item.context else None,
        # A person at the business wrote it, which one Kazi cannot know.
        author_kind=AuthorKind.TEAMMATE,
        sent_via=SentVia.BUSINESS_APP,
        delivery_state="sent",
        provider_timestamp=sent_at,
    )
    session.add(message)
    session.flush()
    queue_media_download(session, message, conversation.business_number, now)
    event = DomainEvent(
        TriggerKind.MESSAGE_SENT_FROM_APP.value,
        f"echo:{item.message_id}",
        sent_at,
        data={"message": message_view(message)},
    )
    return [
        ConversationEvent(conversation.id, event),
        *apply_waiting(session, item.message_id, now),
    ]


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
        # The send's answer is still on its way, or Kazi never sent it (§6.4): kept, and
        # applied when the message is stored; never a retry with a traceback.
        keep_unmatched(
            session,
            item,
            target=item.message_id,
            kind="status",
            summary=item.status,
            inbound_event_id=inbound_event_id,
            now=now,
        )
        return
    lock_conversation(session, message.conversation)
    # Read the state again under the lock: a status of the same message applied by
    # another worker meanwhile (read before delivered, shuffled) must not be undone.
    session.refresh(message, ["delivery_state", "failure_code", "failure_detail"])
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
    if item.status == "failed" and error is not None and error.code == 131050:
        # The customer stopped marketing messages (reference §9): kept as their choice.
        at = _instant(item.timestamp) or now
        contact_id = message.conversation.contact_id
        record_preference(session, contact_id, "marketing_messages", "stop", "error 131050", at)
    session.flush()


def _reconcile(session: Session, item: StatusUpdate) -> Message | None:
    """A status for a send whose answer never came (a timeout): our idempotency key rides
    back as callback data, so the message is found and learns its wamid now."""
    key = item.callback_data or ""
    message_id = _message_of_key(session, key)
    if message_id is None:
        return None
    message = session.get(Message, message_id)
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


def _message_of_key(session: Session, key: str) -> int | None:
    """The message an outbox key sends: `message:<id>`, or a row whose key names something
    else (a broadcast's `broadcast:<b>:contact:<c>`) and carries the message id."""
    if key.startswith("message:") and key[len("message:") :].isdigit():
        return int(key[len("message:") :])
    if not key.startswith("broadcast:"):
        return None
    payload = session.scalar(select(OutboxRow.payload).where(OutboxRow.idempotency_key == key))
    value = (payload or {}).get("message_id")
    return value if isinstance(value, int) else None


def apply_waiting(
    session: Session, provider_message_id: str, now: datetime
) -> list[ConversationEvent]:
    """A message with this wamid was just stored (received, echoed, or a send accepted):
    apply the statuses, reactions, edits and revokes that arrived before it."""
    happened: list[ConversationEvent] = []
    for row in waiting_for(session, provider_message_id):
        row.state = UnmatchedState.APPLIED
        row.resolved_at = now
        for item in parse_envelope(row.payload):
            happened += apply_item(session, item, inbound_event_id=row.inbound_event_id, now=now)
    session.flush()
    return happened


def catch_up(session: Session, now: datetime) -> list[ConversationEvent]:
    """Apply kept items whose message is stored after all.

    Two workers can cross: one stores a message while another, not yet seeing it, keeps
    a reaction or status for it; neither transaction sees the other's row. Every
    WhatsApp event ends by looking for such pairs (an indexed join over the few kept
    rows), so the crossing is mended by the next event at the latest. In a worker's
    batch of events (one transaction) it looks once, with the batch's first event."""
    cache = batch_cache(session)
    if cache is not None:
        if cache.get("caught_up"):
            return []
        cache["caught_up"] = True
    matched = (
        select(UnmatchedItem.target_provider_message_id)
        .join(Message, Message.provider_message_id == UnmatchedItem.target_provider_message_id)
        .where(
            UnmatchedItem.state != UnmatchedState.APPLIED,
            # A status only ever applies to an outbound message.
            (UnmatchedItem.kind != "status") | (Message.direction == Direction.OUTBOUND),
        )
        .distinct()
        .limit(50)
    )
    happened: list[ConversationEvent] = []
    for wamid in session.scalars(matched).all():
        happened += apply_waiting(session, wamid, now)
    return happened


def _edited_id(item: InboundMessage) -> str | None:
    """The message an `unsupported` edit is about, when WhatsApp names it at all."""
    raw = item.raw if isinstance(item.raw, dict) else {}
    unsupported = raw.get("unsupported")
    if isinstance(unsupported, dict):
        for key in ("original_message_id", "message_id"):
            if isinstance(unsupported.get(key), str):
                return str(unsupported[key])
    return item.context.replied_to_id if item.context else None


def _business_number(item: WhatsAppEvent, numbers: Numbers | None) -> str:
    """The business number in E.164: the configured number for the phone_number_id the
    item came on (never the payload's display number when the config knows it)."""
    origin = item.origin
    if origin and origin.phone_number_id and numbers and origin.phone_number_id in numbers:
        return numbers[origin.phone_number_id]
    if origin and origin.display_phone_number:
        return to_e164(origin.display_phone_number, strict=False)
    if origin and origin.phone_number_id:
        return origin.phone_number_id
    return "unknown"


def _instant(epoch_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None
