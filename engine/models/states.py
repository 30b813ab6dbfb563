"""The closed sets of values state columns may hold.

They are StrEnums so code can say `InboundState.RECEIVED` and still compare with
and assign plain strings; the database holds the string values behind a CHECK.
"""

from __future__ import annotations

from enum import StrEnum

from engine.core.states import ActorKind, ConversationStatus, Priority, SubjectKind, WaitingOn

__all__ = [
    "ActorKind",
    "AuthorKind",
    "BusinessObjectKind",
    "Channel",
    "ConversationStatus",
    "DelayState",
    "DeliveryState",
    "Direction",
    "InboundState",
    "MessageType",
    "OutboxState",
    "Priority",
    "Reactor",
    "SentVia",
    "SubjectKind",
    "UnmatchedState",
    "WaitingOn",
    "values",
]


class InboundState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    FLAGGED = "flagged"  # e.g. a bad signature: kept for staff, never processed


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"  # gave up for now; staff may retry
    DEAD = "dead"  # will never be tried again


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    TEMPLATE = "template"
    REACTION = "reaction"
    UNSUPPORTED = "unsupported"


class AuthorKind(StrEnum):
    CONTACT = "contact"
    TEAMMATE = "teammate"
    RULE = "rule"


class Reactor(StrEnum):
    """Who reacted to a message: the customer, or the business from its WhatsApp app."""

    CONTACT = "contact"
    BUSINESS = "business"


class SentVia(StrEnum):
    """How an outbound message left, when not through Kazi (NULL on the row)."""

    BUSINESS_APP = "business_app"  # typed in the WhatsApp Business app (coexistence echo)


class UnmatchedState(StrEnum):
    WAITING = "waiting"  # the message may still be stored (a send's answer on its way)
    APPLIED = "applied"
    ORPHANED = "orphaned"  # old enough that the message is clearly not coming


class DeliveryState(StrEnum):
    """Outbound delivery, in rank order: a state only ever moves to a higher rank,
    except `failed`, which is shown whenever it arrives (DESIGN rule 3)."""

    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    EMAIL = "email"


class BusinessObjectKind(StrEnum):
    LEAD = "lead"
    ORDER = "order"
    BOOKING = "booking"
    SUPPORT_CASE = "support_case"
    PAYMENT_REQUEST = "payment_request"
    ACCOUNT = "account"


class DelayState(StrEnum):
    """A rule's delayed block: waiting, being run, and how it ended."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    FAILED = "failed"


def values(states: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in states)
