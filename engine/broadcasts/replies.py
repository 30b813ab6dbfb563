"""A customer answering a broadcast: the conversation the broadcast opened becomes an
ordinary one, routed by the usual rules.

A broadcast opens (or reuses) a conversation for each recipient without giving it an
owner: thousands of offers must not land in the agents' queues before anyone answers.
When the customer's first message arrives there, the conversation is treated as opened
by it (the `conversation opened` event with their message), so routing.yaml picks the
team and owner from what they wrote, and the rules on opening run, as for a customer who
wrote first. An opt-out keyword is not routed: consent.yaml answers it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.automation.runner import AlreadyApplied, rules_in_force, step_conversation
from engine.conversations.events import ConversationEvent
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.models import BroadcastRecipient, Conversation, RecipientState
from engine.workspaces.directory import ConfigDirectory

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]


def with_broadcast_replies(configs: ConfigDirectory, automations: Automations) -> Automations:
    """`automations`, then each first reply to a broadcast routed like a new conversation."""

    def run(
        session: Session, workspace_id: int, events: Sequence[ConversationEvent], now: datetime
    ) -> None:
        automations(session, workspace_id, events, now)
        received = [e for e in events if e.event.kind == TriggerKind.MESSAGE_RECEIVED.value]
        if not received:
            return
        rules = None
        for happened in received:
            conversation = session.get(Conversation, happened.conversation_id)
            if conversation is None or conversation.owner_id or conversation.team_id:
                continue
            from_broadcast = session.scalar(
                select(BroadcastRecipient.id)
                .where(
                    BroadcastRecipient.conversation_id == conversation.id,
                    BroadcastRecipient.state == RecipientState.QUEUED,
                )
                .limit(1)
            )
            if from_broadcast is None:
                continue
            rules = rules or rules_in_force(session, configs, workspace_id)
            if rules is None:
                return
            message = happened.event.data.get("message") or {}
            if rules.config.consent_keyword(str(message.get("text") or "")) is not None:
                continue
            opened = DomainEvent(
                TriggerKind.CONVERSATION_OPENED.value,
                f"opened:{conversation.id}",
                happened.event.occurred_at,
                data=dict(happened.event.data),
            )
            # A redelivered message was routed the first time.
            with suppress(AlreadyApplied):
                step_conversation(session, rules, conversation.id, opened, now)

    return run
