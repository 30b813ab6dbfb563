"""A domain event about one conversation, as appliers hand it to the rule runtime."""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.rules.events import DomainEvent


@dataclass(frozen=True)
class ConversationEvent:
    conversation_id: int
    event: DomainEvent
