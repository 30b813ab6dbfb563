"""What became of a broadcast: sent, delivered, read, replied, failed by reason, opted out,
and who was skipped and why.

Delivery comes from each message's explicit delivery state (ranks only go up, so `read`
counts as delivered and sent too). A reply is any message from the recipient within the
reply window (broadcasts.yaml) after their broadcast was queued, other than an opt-out
keyword; an opt-out is their consent turning to opted out within that window."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.broadcasts.plans import get_broadcast
from engine.contacts.segments import CHUNK
from engine.inbox.audit import record
from engine.models import (
    Broadcast,
    BroadcastRecipient,
    ConsentEvent,
    ConsentState,
    Contact,
    Conversation,
    Direction,
    Message,
    RecipientState,
)

SENT = ("accepted", "sent", "delivered", "read")
DELIVERED = ("delivered", "read")
LISTED = 500


@dataclass(frozen=True)
class RecipientLine:
    contact_id: int
    name: str
    state: str  # "skipped", or the message's delivery state
    reason: str | None  # why skipped, or why the send failed
    conversation_id: int | None
    replied: bool = False
    opted_out: bool = False


@dataclass
class Report:
    broadcast: Broadcast
    recipients: int = 0  # messages queued
    waiting: int = 0  # still queued or sending
    sent: int = 0
    delivered: int = 0
    read: int = 0
    replied: int = 0
    opted_out: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    lines: list[RecipientLine] = field(default_factory=list)

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_json(self) -> dict[str, object]:
        b = self.broadcast
        return {
            "id": b.id,
            "name": b.name,
            "state": b.state,
            "template": b.template,
            "language": b.language,
            "segment": b.segment_label,
            "send_at": b.send_at.isoformat(),
            "waiting_reason": b.waiting_reason,
            "last_error": b.last_error,
            "recipients": self.recipients,
            "waiting": self.waiting,
            "sent": self.sent,
            "delivered": self.delivered,
            "read": self.read,
            "replied": self.replied,
            "opted_out": self.opted_out,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def broadcast_report(
    session: Session,
    principal: Principal,
    broadcast_id: int,
    reply_window: timedelta,
    now: datetime,
    *,
    audit: bool = False,
) -> Report:
    """With `audit`, the view (who received it: customer data) goes to the audit log; the
    caller commits."""
    require(principal, Action.SEND_BROADCASTS)
    broadcast = get_broadcast(session, broadcast_id)
    if audit:
        record(
            session, principal, "view", subject_kind="broadcast", subject_id=broadcast.id, now=now
        )
    report = Report(broadcast)
    rows = session.execute(
        select(
            BroadcastRecipient.contact_id,
            BroadcastRecipient.state,
            BroadcastRecipient.reason,
            BroadcastRecipient.conversation_id,
            BroadcastRecipient.queued_at,
            Message.delivery_state,
            Message.failure_code,
            Message.failure_detail,
            Contact.name,
            Contact.profile_name,
        )
        .join(Contact, Contact.id == BroadcastRecipient.contact_id)
        .outerjoin(Message, Message.id == BroadcastRecipient.message_id)
        .where(BroadcastRecipient.broadcast_id == broadcast.id)
        .order_by(BroadcastRecipient.id)
    ).all()
    sent_at = {r.contact_id: r.queued_at for r in rows if r.state == RecipientState.QUEUED}
    replied, opted_out = _answers(session, sent_at, reply_window)
    failed: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    lines: list[RecipientLine] = []
    for r in rows:
        name = r.name or r.profile_name or f"Contact {r.contact_id}"
        if r.state == RecipientState.SKIPPED:
            skipped[r.reason or "skipped"] += 1
            lines.append(RecipientLine(r.contact_id, name, "skipped", r.reason, None))
            continue
        report.recipients += 1
        state = r.delivery_state or "queued"
        reason = None
        if state in SENT:
            report.sent += 1
        if state in DELIVERED:
            report.delivered += 1
        if state == "read":
            report.read += 1
        if state in ("queued", "sending"):
            report.waiting += 1
        if state == "failed":
            reason = f"{r.failure_code}: {r.failure_detail}" if r.failure_code else "failed"
            failed[reason[:200]] += 1
        answered = r.contact_id in replied
        stopped = r.contact_id in opted_out
        report.replied += answered
        report.opted_out += stopped
        lines.append(
            RecipientLine(r.contact_id, name, state, reason, r.conversation_id, answered, stopped)
        )
    report.failed = dict(failed.most_common())
    report.skipped = dict(skipped.most_common())
    report.lines = lines[:LISTED]
    return report


def _answers(
    session: Session, sent_at: dict[int, datetime], window: timedelta
) -> tuple[set[int], set[int]]:
    """(contacts who replied, contacts who opted out) within the window after their send."""
    replied: set[int] = set()
    opted_out: set[int] = set()
    ids = list(sent_at)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        since = min(sent_at[c] for c in chunk)
        keywords = set()
        for contact_id, at, message_id in session.execute(
            select(ConsentEvent.contact_id, ConsentEvent.at, ConsentEvent.message_id).where(
                ConsentEvent.contact_id.in_(chunk),
                ConsentEvent.state == ConsentState.OPTED_OUT,
                ConsentEvent.at >= since,
            )
        ):
            if message_id is not None:
                keywords.add(message_id)
            if sent_at[contact_id] <= at <= sent_at[contact_id] + window:
                opted_out.add(contact_id)
        for contact_id, message_id, at in session.execute(
            select(Conversation.contact_id, Message.id, Message.provider_timestamp)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.contact_id.in_(chunk),
                Message.direction == Direction.INBOUND,
                Message.provider_timestamp >= since,
            )
        ):
            if message_id in keywords or at is None:
                continue
            if sent_at[contact_id] <= at <= sent_at[contact_id] + window:
                replied.add(contact_id)
    return replied, opted_out
