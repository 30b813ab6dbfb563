"""The history checker: what must hold in the database after any fault test.

- every accepted webhook item was stored and processed, and applied exactly once;
- no message was sent twice (the simulator's record of accepted sends against the
  outbox's idempotency keys), and every completed send was sent exactly once;
- delivery states only moved up: each message's state is what its recorded
  statuses give when folded through the ranked state machine;
- one open conversation per contact and business number, one current owner per address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from connectors.whatsapp.events import InboundMessage, StatusUpdate
from connectors.whatsapp.parse import parse_envelope
from engine.core.delivery import next_delivery_state
from engine.db import workspace_session
from engine.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Identity,
    InboundEvent,
    Message,
    MessageStatusEvent,
    OutboxRow,
)


@dataclass(frozen=True)
class AcceptedSend:
    """One send the provider (the simulator) accepted."""

    wamid: str
    callback_data: str | None


def check_history(
    db: Engine,
    workspace_id: int,
    accepted_sends: Iterable[AcceptedSend],
    *,
    delivered_wamids: Iterable[str] = (),
) -> None:
    """Raise AssertionError naming every broken promise; `delivered_wamids` are message
    and status ids of webhooks the provider saw answered 200."""
    problems: list[str] = []
    sends = list(accepted_sends)
    with workspace_session(db, workspace_id) as session:
        events = list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))
        messages = {m.id: m for m in session.scalars(select(Message))}
        by_wamid = {m.provider_message_id: m for m in messages.values() if m.provider_message_id}
        statuses = list(session.scalars(select(MessageStatusEvent).order_by(MessageStatusEvent.id)))
        rows = list(session.scalars(select(OutboxRow)))
        open_conversations = session.execute(
            select(Conversation.contact_id, Conversation.business_number, func.count())
            .where(Conversation.status != ConversationStatus.RESOLVED)
            .group_by(Conversation.contact_id, Conversation.business_number)
            .having(func.count() > 1)
        ).all()
        shared_addresses = session.execute(
            select(Identity.channel, Identity.address, func.count())
            .where(Identity.is_current.is_(True))
            .group_by(Identity.channel, Identity.address)
            .having(func.count() > 1)
        ).all()

    # Every accepted event processed, and applied once.
    stored_ids: set[str] = set()
    applied_per_event = Counter(s.inbound_event_id for s in statuses)
    for event in events:
        if event.state not in ("processed", "flagged"):
            problems.append(f"inbound event {event.id} left {event.state}: {event.last_error}")
            continue
        if event.state == "flagged":
            continue
        items = list(parse_envelope(event.payload))
        for item in items:
            if isinstance(item, InboundMessage):
                stored_ids.add(item.message_id)
                if (
                    # Not stored as messages: system changes, echoes, and reactions, edits
                    # and revokes (they change the message they are about).
                    item.message_type not in ("system", "reaction", "edit", "revoke")
                    and not item.is_echo
                    and item.message_id not in by_wamid
                ):
                    problems.append(f"event {event.id}: message {item.message_id} not stored")
            elif isinstance(item, StatusUpdate):
                stored_ids.add(item.message_id)
        expected = sum(isinstance(item, StatusUpdate) for item in items)
        if applied_per_event[event.id] != expected:
            problems.append(
                f"event {event.id}: {applied_per_event[event.id]} statuses applied, not {expected}"
            )
    for wamid in set(delivered_wamids) - stored_ids:
        problems.append(f"webhook for {wamid} answered 200 but not stored")

    # No duplicate send; every completed send sent exactly once.
    per_key = Counter(send.callback_data for send in sends)
    for key, count in per_key.items():
        if count > 1:
            problems.append(f"{key} sent {count} times")
    wamid_of_key = {send.callback_data: send.wamid for send in sends}
    for row in rows:
        if row.state in ("queued", "sending"):
            problems.append(f"outbox row {row.id} ({row.idempotency_key}) left {row.state}")
        message = messages.get(int(row.payload.get("message_id", 0)))
        if row.state == "done":
            if per_key[row.idempotency_key] != 1:
                problems.append(
                    f"{row.idempotency_key} done but sent {per_key[row.idempotency_key]} times"
                )
            elif (
                message is not None
                and message.provider_message_id != wamid_of_key[row.idempotency_key]
            ):
                problems.append(f"message {message.id} does not know its wamid")
        if (
            message is not None
            and message.delivery_state in ("queued", "sending")
            and per_key[row.idempotency_key]
        ):
            problems.append(f"message {message.id} sent but left {message.delivery_state}")

    # Delivery states only move up.
    by_message: dict[int, list[str]] = {}
    for status in statuses:
        by_message.setdefault(status.message_id, []).append(status.status)
    for message_id, reported in by_message.items():
        message = messages[message_id]
        if message.direction != Direction.OUTBOUND:
            continue
        state = "accepted"
        for reported_status in reported:
            state = next_delivery_state(state, reported_status)
        if message.delivery_state != state:
            problems.append(
                f"message {message_id} is {message.delivery_state} after {reported}, not {state}"
            )

    for contact_id, number, count in open_conversations:
        problems.append(f"contact {contact_id} has {count} open conversations on {number}")
    for channel, address, count in shared_addresses:
        problems.append(f"{channel} {address} is the current address of {count} identities")
    assert not problems, "history broken:\n  " + "\n  ".join(problems)


def simulator_sends(records: Iterable[object]) -> list[AcceptedSend]:
    """The simulator's SendRecords (or their JSON from /_sim/sends) as AcceptedSends."""
    sends = []
    for record in records:
        if isinstance(record, dict):
            sends.append(AcceptedSend(str(record["wamid"]), record.get("callback_data")))
        else:
            sends.append(AcceptedSend(record.wamid, record.callback_data))  # type: ignore[attr-defined]
    return sends
