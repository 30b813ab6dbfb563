"""Effects: what a rule decided should happen, as plain data. Something else carries them out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Recipient:
    """Who an action is for: the conversation's owner, a teammate or a team."""

    kind: str  # "owner" | "teammate" | "team"
    name: str | None  # the handle or team name; for "owner", the owner at evaluation time


@dataclass(frozen=True)
class Effect:
    rule: str


@dataclass(frozen=True)
class Assign(Effect):
    teammate: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Route(Effect):
    """Run the workspace's routing rules for the conversation again."""


@dataclass(frozen=True)
class MoveStage(Effect):
    pipeline: str = ""
    stage: str = ""


@dataclass(frozen=True)
class AddTag(Effect):
    tag: str = ""


@dataclass(frozen=True)
class RemoveTag(Effect):
    tag: str = ""


@dataclass(frozen=True)
class CreateTask(Effect):
    title: str = ""
    assignee: Recipient | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class Remind(Effect):
    recipient: Recipient | None = None
    text: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class SendTemplate(Effect):
    template: str = ""
    language: str = ""
    variables: tuple[str, ...] = ()  # the body's {{1}}, {{2}}, ...
    header_variables: tuple[str, ...] = ()
    button_variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendText(Effect):
    """Free text: only valid inside WhatsApp's 24-hour window, which the executor checks."""

    text: str = ""


@dataclass(frozen=True)
class DraftReply(Effect):
    """A reply staged for a teammate to approve; never sent by itself."""

    text: str = ""


@dataclass(frozen=True)
class Notify(Effect):
    recipient: Recipient | None = None
    text: str = ""


@dataclass(frozen=True)
class AddNote(Effect):
    text: str = ""


@dataclass(frozen=True)
class SetField(Effect):
    owner: str = ""  # "conversation", "contact" or a business object kind
    field: str = ""
    value: Any = None


@dataclass(frozen=True)
class CallIntegration(Effect):
    integration: str = ""
    operation: str = ""


@dataclass(frozen=True)
class RequestPayment(Effect):
    amount: float | None = None
    provider: str = ""


@dataclass(frozen=True)
class Escalate(Effect):
    recipient: Recipient | None = None


@dataclass(frozen=True)
class ScheduleDelayed(Effect):
    """A delayed block: at `due_at`, `resume` re-checks `guard` against fresh state."""

    block: int = 0  # index of the delayed block within the rule
    due_at: datetime | None = None
    scheduled_at: datetime | None = None
    event_id: str = ""
    stage: str | None = None  # the stage when scheduled, for the `stage changed` guard
    status: str | None = None  # the status when scheduled, for the `status changed` guard
    guard: str | None = None  # the guard's source text, for people reading the schedule


def effect_to_json(effect: Effect) -> dict[str, Any]:
    """A JSON-ready dict: `{"kind": "send_template", "rule": ..., ...}`."""
    out: dict[str, Any] = {"kind": effect_kind(effect)}
    for f in fields(effect):
        value = getattr(effect, f.name)
        if isinstance(value, Recipient):
            value = {"kind": value.kind, "name": value.name}
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def effect_kind(effect: Effect) -> str:
    """`SendTemplate` -> `send_template`."""
    name = type(effect).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
