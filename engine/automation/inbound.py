"""What inbound processing calls once an event is applied: its domain events through the rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from engine.automation.runner import no_rules, rules_in_force, run_events
from engine.conversations.events import ConversationEvent
from engine.workspaces.directory import ConfigDirectory

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]


def automations_for(configs: ConfigDirectory) -> Automations:
    def run(
        session: Session, workspace_id: int, events: Sequence[ConversationEvent], now: datetime
    ) -> None:
        rules = rules_in_force(session, configs, workspace_id) or no_rules()
        run_events(session, rules, events, now)

    return run
