"""What the rule runtime reads: a domain event and a snapshot of the conversation it is about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class TriggerKind(StrEnum):
    """Every kind of domain event a rule can be triggered by."""

    MESSAGE_RECEIVED = "message_received"
    CONVERSATION_OPENED = "conversation_opened"
    STAGE_ENTERED = "stage_entered"
    STAGE_LEFT = "stage_left"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    TAG_ADDED = "tag_added"
    TASK_DUE = "task_due"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    PAYMENT_CONFIRMED = "payment_confirmed"
    PAYMENT_FAILED = "payment_failed"
    INTEGRATION_EVENT = "integration_event"
    INQUIRY_CLASSIFIED = "inquiry_classified"  # key: the intent (ai.yaml), data: inquiry
    SCHEDULE = "schedule"
    # WhatsApp facts with no rule syntax yet: the reducer records what they do to the
    # conversation (a reaction keeps the 24-hour window open; a message the business
    # typed in its phone app is a reply the SLA clocks wait for).
    REACTION_RECEIVED = "reaction_received"
    MESSAGE_SENT_FROM_APP = "message_sent_from_app"


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened to one conversation.

    `key` narrows the trigger: the stage entered or left, the new status, the tag
    added, the SLA policy, `integration:event` for integration events, the rule
    name for schedule ticks. `data` carries the payload: `message`, `payment`,
    `task`, `sla` or the integration's own fields. `caused_by` names the rule
    whose effect produced this event, so that rule does not re-trigger itself.
    `subject` is the business object the event is about (a stage it entered, the
    order a payment is for), by its key in the state: its kind's root reads it.
    """

    kind: str
    id: str
    occurred_at: datetime
    key: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    caused_by: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The state rules read: the conversation, its contact and linked business objects."""

    conversation: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    contact: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    objects: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _EMPTY)
