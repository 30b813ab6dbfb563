"""Reading the stored rule traces back: why each rule did or did not act on an event.

The reducer writes one trace per evaluated event (engine/automation/persist.py); the
conversation page and `kazi explain --trace` read them here, newest last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import RuleTrace


@dataclass(frozen=True)
class TracedRule:
    rule: str
    fired: bool
    why: str  # "fired", "false: <the condition part that failed>", or the reason it was skipped


@dataclass(frozen=True)
class TracedEvent:
    at: datetime
    kind: str
    key: str | None
    caused_by: str | None
    rules: tuple[TracedRule, ...]

    @property
    def headline(self) -> str:
        key = f" {self.key!r}" if self.key else ""
        by = f" (caused by rule {self.caused_by})" if self.caused_by else ""
        return f"{self.kind.replace('_', ' ')}{key}{by}"


def _rule(entry: dict[str, Any]) -> TracedRule:
    if entry.get("fired"):
        why = "fired"
    elif entry.get("reason"):
        why = str(entry["reason"])
    else:
        why = f"false: {entry.get('failed')}"
    return TracedRule(str(entry.get("rule")), bool(entry.get("fired")), why)


def recent_traces(session: Session, conversation_id: int, last: int = 10) -> list[TracedEvent]:
    """The last `last` evaluated events on the conversation, oldest first."""
    rows = session.scalars(
        select(RuleTrace)
        .where(RuleTrace.conversation_id == conversation_id)
        .order_by(RuleTrace.id.desc())
        .limit(last)
    ).all()
    return [
        TracedEvent(
            row.at,
            row.event_kind,
            row.event_key,
            row.caused_by,
            tuple(_rule(entry) for entry in row.rules or ()),
        )
        for row in reversed(rows)
    ]
