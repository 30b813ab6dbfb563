"""Applying a parsed WhatsApp item the way the worker does: store it, then step its events.

The record's reaction to a message (the 24-hour window, waiting on us, waking a snooze)
is the reducer's, so a test that only stored the item would see none of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from connectors.whatsapp.events import WhatsAppEvent
from engine.automation.runner import RulesInForce, no_rules, run_events
from engine.conversations.events import ConversationEvent
from engine.core.rules.events import DomainEvent
from engine.models import Conversation
from engine.whatsapp.apply import apply_item


def apply_and_step(session: Session, item: WhatsAppEvent, now: datetime) -> None:
    run_events(session, no_rules(), apply_item(session, item, inbound_event_id=None, now=now), now)


def step_event(
    session: Session,
    rules: RulesInForce | None,
    conversation: Conversation,
    event: DomainEvent,
    now: datetime,
) -> None:
    """One domain event through its conversation, as the worker steps it."""
    run_events(session, rules or no_rules(), [ConversationEvent(conversation.id, event)], now)
