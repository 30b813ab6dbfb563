"""The closed sets of values the rule engine's state holds, shared with the database.

StrEnums, so code says `ConversationStatus.RESOLVED` and still compares with and
assigns plain strings; the database keeps the string values behind a CHECK
(engine.models.states re-exports these).
"""

from __future__ import annotations

from enum import StrEnum


class ConversationStatus(StrEnum):
    OPEN = "open"
    WAITING_ON_US = "waiting_on_us"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class WaitingOn(StrEnum):
    US = "us"
    CUSTOMER = "customer"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ActorKind(StrEnum):
    """Who changed something: a teammate, a rule, the customer, or Kazi itself (a job)."""

    TEAMMATE = "teammate"
    RULE = "rule"
    CONTACT = "contact"
    SYSTEM = "system"


class SubjectKind(StrEnum):
    CONVERSATION = "conversation"
    BUSINESS_OBJECT = "business_object"
