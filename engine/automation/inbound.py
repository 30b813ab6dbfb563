"""What inbound processing calls once an event is applied: rules, then SLA clocks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from engine.automation.runner import rules_in_force, run_events
from engine.conversations.events import ConversationEvent
from engine.models import Conversation
from engine.sla.clocks import refresh_clocks
from engine.workspaces.directory import ConfigDirectory

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]


def automations_for(configs: ConfigDirectory) -> Automations:
    def run(
        session: Session, workspace_id: int, events: Sequence[ConversationEvent], now: datetime
    ) -> None:
        rules = rules_in_force(session, configs, workspace_id)
        if rules is None:
            return
        run_events(session, rules, events, now)
        for conversation_id in dict.fromkeys(item.conversation_id for item in events):
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                refresh_clocks(session, rules, conversation, now)

    return run
