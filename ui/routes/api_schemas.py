"""Request and response shapes of the JSON API (separate Create / Read structs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.inbox.conversation import ConversationView, Entry
from engine.inbox.queues import QueueRow


@dataclass
class ConversationRead:
    id: int
    contact_id: int
    contact_name: str
    address: str | None
    status: str
    waiting_on: str | None
    waiting_since: datetime
    owner_id: int | None
    owner_name: str | None
    team_name: str | None
    stage: str | None
    priority: str
    tags: list[str]
    last_message: str | None

    @classmethod
    def of(cls, row: QueueRow) -> ConversationRead:
        return cls(
            id=row.conversation_id,
            contact_id=row.contact_id,
            contact_name=row.contact_name,
            address=row.address,
            status=row.status,
            waiting_on=row.waiting_on,
            waiting_since=row.waiting_since,
            owner_id=row.owner_id,
            owner_name=row.owner_name,
            team_name=row.team_name,
            stage=row.stage,
            priority=row.priority,
            tags=list(row.tags),
            last_message=row.last_message,
        )


@dataclass
class ConversationPage:
    queue: str
    page: int
    has_more: bool
    counts: dict[str, int]
    items: list[ConversationRead]


@dataclass
class EntryRead:
    kind: str
    id: int
    at: datetime
    text: str | None
    author: str | None
    direction: str | None = None
    message_type: str | None = None
    delivery_state: str | None = None
    failure_code: str | None = None
    failure_meaning: str | None = None
    done: bool = False

    @classmethod
    def of(cls, entry: Entry) -> EntryRead:
        return cls(
            kind=entry.kind,
            id=entry.id,
            at=entry.at,
            text=entry.text,
            author=entry.author,
            direction=entry.direction,
            message_type=entry.message_type,
            delivery_state=entry.delivery_state,
            failure_code=entry.failure_code,
            failure_meaning=entry.failure_meaning,
            done=entry.done,
        )


@dataclass
class ConversationDetail:
    id: int
    contact_id: int
    contact_name: str
    addresses: list[str]
    status: str
    waiting_on: str | None
    owner_id: int | None
    owner_name: str | None
    team_id: int | None
    team_name: str | None
    stage: str | None
    tags: list[str]
    snoozed_until: datetime | None
    window_closes_at: datetime | None
    window_open: bool
    latest_message_id: int | None
    next_stages: list[str]
    timeline: list[EntryRead]
    fields: dict[str, Any] = field(default_factory=dict)  # the workspace's own fields

    @classmethod
    def of(cls, view: ConversationView) -> ConversationDetail:
        c = view.conversation
        return cls(
            id=c.id,
            contact_id=c.contact_id,
            contact_name=view.contact_name,
            addresses=view.addresses,
            status=c.status,
            waiting_on=c.waiting_on,
            owner_id=c.owner_id,
            owner_name=view.owner_name,
            team_id=c.team_id,
            team_name=view.team_name,
            stage=c.stage,
            tags=view.tags,
            snoozed_until=c.snoozed_until,
            window_closes_at=view.window_closes_at,
            window_open=view.window_open,
            latest_message_id=view.latest_message_id,
            next_stages=[choice.name for choice in view.stages],
            timeline=[EntryRead.of(e) for e in view.timeline],
            fields=dict(c.fields or {}),
        )


@dataclass
class MessageCreate:
    """Free text (`body`) inside the 24-hour window, or a template by name outside it."""

    body: str | None = None
    template: str | None = None
    language: str = "en"
    parameters: list[str] = field(default_factory=list)
    seen_message_id: int | None = None
    confirmed: bool = False


@dataclass
class MessageRead:
    id: int
    conversation_id: int
    direction: str
    type: str
    body: str | None
    delivery_state: str | None
    created_at: datetime | None


@dataclass
class NoteCreate:
    body: str


@dataclass
class NoteRead:
    id: int
    conversation_id: int
    body: str
    author_teammate_id: int | None
    created_at: datetime
    # On creation: handles its @mentions notified, and those they could not, with why.
    notified: list[str] = field(default_factory=list)
    not_notified: list[NotNotified] = field(default_factory=list)


@dataclass
class NotNotified:
    handle: str
    reason: str


@dataclass
class QuickReplyRead:
    shortcut: str
    title: str
    language: str | None
    text: str  # filled in for this conversation's customer and the asking teammate


@dataclass
class QuickRepliesRead:
    available: bool  # false outside the 24-hour window: free text cannot be sent
    reason: str | None
    replies: list[QuickReplyRead]


@dataclass
class TaskCreate:
    title: str
    due_at: datetime | None = None
    assignee_id: int | None = None


@dataclass
class TaskRead:
    id: int
    title: str
    due_at: datetime | None
    assignee_id: int | None
    done_at: datetime | None
    conversation_id: int | None


@dataclass
class ScheduledActionRead:
    """A rule's delayed follow-up: due when, unless its guard says otherwise."""

    id: int
    rule: str
    due_at: datetime
    unless: str | None
    state: str
    outcome: str | None


@dataclass
class AssignmentUpdate:
    """Who should own it; `expected_owner_id` is who you believe owns it now."""

    expected_owner_id: int | None
    teammate_id: int | None = None
    team_id: int | None = None
    note: str | None = None


@dataclass
class StatusUpdate:
    status: str


@dataclass
class StageUpdate:
    """Where to move; `expected_stage` is where you believe the conversation is now."""

    stage: str
    expected_stage: str | None


@dataclass
class BusinessObjectUpdate:
    """What to change on an order, booking or case; a field left out stays as it is.
    `fields` are the object's own details (an order's `items`, a booking's `date` ...)."""

    external_ref: str | None = None
    status: str | None = None
    amount: str | None = None
    currency: str | None = None
    fields: dict[str, str] | None = None
    # The lines, replacing those there: the amount becomes their sum. [] removes them all.
    items: list[LineItemWrite] | None = None


@dataclass
class SnoozeUpdate:
    until: datetime


@dataclass
class TagCreate:
    name: str


@dataclass
class ErrorBody:
    status: int
    error: str


@dataclass
class LineItemWrite:
    """One line: quantity and unit price are decimal strings ("2", "1499.50")."""

    description: str
    quantity: str = "1"
    unit_price: str = "0"


@dataclass
class LineItemRead:
    description: str
    quantity: str
    unit_price: str
    total: str


@dataclass
class ObjectLinkCreate:
    """The object to link to: its reference (`ORD-1042`) or its id."""

    object: str


@dataclass
class LinkedObjectRead:
    id: int
    kind: str
    external_ref: str | None
    status: str
    amount: str | None


@dataclass
class EscalationCreate:
    """Ask one teammate to decide, and why."""

    decider_id: int
    reason: str


@dataclass
class EscalationDecision:
    decision: str  # "approve" | "decline"
    note: str = ""


@dataclass
class EscalationRead:
    id: int
    conversation_id: int
    decider_id: int
    decider: str
    reason: str
    asked_by: str | None
    asked_at: datetime
    decision: str | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None
    waiting_seconds: int | None  # until decided; None once decided


@dataclass
class MyTaskRead:
    id: int
    title: str
    due_at: datetime | None
    when: str  # "overdue" | "today" | "later" | "no due date"
    conversation_id: int | None
    customer: str | None
    object_kind: str | None
    object_reference: str | None


@dataclass
class BusinessObjectCreate:
    """An order, booking, case or payment request about this conversation. `amount` is a
    decimal string ("18500.00") so money never passes through a float."""

    kind: str
    external_ref: str | None = None
    status: str = "open"
    amount: str | None = None
    currency: str | None = None


@dataclass
class BusinessObjectRead:
    id: int
    kind: str
    external_ref: str | None
    status: str
    amount: str | None
    currency: str | None
    contact_id: int | None
    pipeline: str | None = None
    stage: str | None = None
    fields: dict[str, Any] | None = None
    items: list[LineItemRead] | None = None
