"""What changed on a conversation, as the domain events rules react to. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.events import DomainEvent, TriggerKind


@dataclass(frozen=True)
class Observed:
    """The parts of a conversation whose changes are events."""

    pipeline: str | None
    stage: str | None
    status: str
    owner_id: int | None
    team_id: int | None
    tags: frozenset[str]


def changes(before: Observed, after: Observed, event_id: str, at: datetime) -> list[DomainEvent]:
    """The events between two observations, in the order rules expect them:
    a stage left before the one entered, then status, assignment and new tags."""
    events: list[DomainEvent] = []

    def add(kind: TriggerKind, key: str | None, **data: str) -> None:
        events.append(DomainEvent(kind.value, f"{event_id}:{kind.value}:{key}", at, key, data))

    if (before.pipeline, before.stage) != (after.pipeline, after.stage):
        if before.stage is not None:
            add(TriggerKind.STAGE_LEFT, before.stage, pipeline=before.pipeline or "")
        if after.stage is not None:
            add(TriggerKind.STAGE_ENTERED, after.stage, pipeline=after.pipeline or "")
    if before.status != after.status:
        add(TriggerKind.STATUS_CHANGED, after.status)
    if (before.owner_id, before.team_id) != (after.owner_id, after.team_id):
        add(TriggerKind.ASSIGNED, None)
    for tag in sorted(after.tags - before.tags):
        add(TriggerKind.TAG_ADDED, tag)
    return events
