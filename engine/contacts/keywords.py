"""A customer's opt-out or opt-in keyword (consent.yaml), applied as their message arrives.

Runs in the inbound transaction right after the rules have seen the message (so the
24-hour window is open for the answer): the consent changes at once, by the customer's
own word, and Kazi answers in the keyword's language. Redelivered webhooks carry no new
message events, so nothing is recorded or answered twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from engine.automation.runner import RulesInForce, rules_in_force, step_conversation
from engine.contacts.consent import ConsentSource, record_consent
from engine.conversations.events import ConversationEvent
from engine.core.config import ConsentAction, ConsentKeyword
from engine.core.rules import effects as fx
from engine.core.rules.events import TriggerKind
from engine.core.step import SYSTEM, Command
from engine.models import ConsentState, Conversation
from engine.workspaces.directory import ConfigDirectory

logger = logging.getLogger(__name__)

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]

STATE_OF = {
    ConsentAction.OPT_OUT: ConsentState.OPTED_OUT,
    ConsentAction.OPT_IN: ConsentState.OPTED_IN,
}


def with_consent_keywords(configs: ConfigDirectory, automations: Automations) -> Automations:
    """`automations`, then each received message that is a consent keyword applied."""

    def run(
        session: Session, workspace_id: int, events: Sequence[ConversationEvent], now: datetime
    ) -> None:
        automations(session, workspace_id, events, now)
        received = [e for e in events if e.event.kind == TriggerKind.MESSAGE_RECEIVED.value]
        if not received:
            return
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None or not rules.config.consent_keywords:
            return
        for happened in received:
            message = happened.event.data.get("message") or {}
            keyword = rules.config.consent_keyword(str(message.get("text") or ""))
            if keyword is not None and message.get("type") == "text":
                apply_keyword(session, rules, happened.conversation_id, message, keyword, now)

    return run


def apply_keyword(
    session: Session,
    rules: RulesInForce,
    conversation_id: int,
    message: dict[str, object],
    keyword: ConsentKeyword,
    now: datetime,
) -> None:
    """Record the customer's word and answer them."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return
    message_id = message.get("id")
    record_consent(
        session,
        conversation.contact_id,
        STATE_OF[keyword.action],
        source=ConsentSource.KEYWORD,
        detail=f"sent {str(message.get('text') or '').strip()[:40]!r} ({keyword.language})",
        by_customer=True,
        message_id=message_id if isinstance(message_id, int) else None,
        now=now,
    )
    if not keyword.reply:
        return
    command = Command(f"consent:{message_id}", SYSTEM, (fx.SendText("", text=keyword.reply),), now)
    applied = step_conversation(session, rules, conversation_id, command, now)
    if applied is not None and applied.refused is not None:
        # The opt-out stands either way; staff see the customer's message in the inbox.
        logger.warning(
            "consent reply not sent on conversation %s: %s",
            conversation_id,
            applied.refused.reason,
        )
