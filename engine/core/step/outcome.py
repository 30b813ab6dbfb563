"""What `step` returns: the new state and, as data, everything that follows from the input.

The adapter persists exactly this: record changes become rows, intents become
outbox rows in the same transaction, firings and traces become the rule history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.rich import RichMessage
from engine.core.rules.evaluate import RuleTrace
from engine.core.rules.events import DomainEvent
from engine.core.step.inputs import Actor
from engine.core.step.state import EMPTY, Clock, PendingDelay, State

CONVERSATION = "conversation"  # the subject of a change that is not about a business object


# ----- record changes ------------------------------------------------------------------


@dataclass(frozen=True)
class StageMoved:
    subject: str  # CONVERSATION or an object key
    pipeline: str
    from_stage: str | None
    to_stage: str
    actor: Actor


@dataclass(frozen=True)
class HeldSend:
    """A template that was not sent because a variable was empty: staff fill it in, then send."""

    template: str
    language: str
    missing: tuple[str, ...]  # what was empty, as written in templates.yaml ("order.amount")


@dataclass(frozen=True)
class TaskCreated:
    title: str
    actor: Actor
    assignee: str | None = None  # a teammate's handle
    team: str | None = None  # for a team's list, unassigned
    recipient: str | None = None  # as the rule named it: "owner", "teammate" or "team"
    due_at: datetime | None = None
    subject: str = CONVERSATION
    held: HeldSend | None = None


@dataclass(frozen=True)
class NoteAdded:
    body: str
    actor: Actor


@dataclass(frozen=True)
class Notified:
    """An in-app notification for each teammate named."""

    teammates: tuple[str, ...]
    text: str
    source: str


@dataclass(frozen=True)
class Audited:
    action: str
    actor: Actor
    subject: str = CONVERSATION
    detail: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Escalated:
    """Someone asked `decider` (a teammate's handle) to decide, and why."""

    decider: str
    reason: str
    actor: Actor


@dataclass(frozen=True)
class EscalationDecided:
    escalation: int
    decision: str  # "approved" | "declined"
    note: str
    actor: Actor


@dataclass(frozen=True)
class ObjectCreated:
    key: str  # the new object is in the outcome's state under this key


@dataclass(frozen=True)
class DelayScheduled:
    delay: PendingDelay


@dataclass(frozen=True)
class DelayFinished:
    key: str
    state: str  # "done" | "skipped" | "cancelled"
    outcome: str | None = None
    by: Actor | None = None


@dataclass(frozen=True)
class ClockStarted:
    clock: Clock


@dataclass(frozen=True)
class ClockStopped:
    key: str
    met: bool


@dataclass(frozen=True)
class ClockMoved:
    """A running clock's deadline moved (its policy's targets or the calendar changed), or
    it paused or resumed (a pause moves the deadline on by the paused time)."""

    key: str
    due_at: datetime
    warn_at: datetime | None
    paused_seconds: float = 0.0
    paused_at: datetime | None = None
    paused_until: datetime | None = None


@dataclass(frozen=True)
class ClockReported:
    """A clock's warning or breach was reported to the rules, once."""

    key: str
    kind: str  # "warned" | "breached"
    at: datetime


Change = (
    StageMoved
    | TaskCreated
    | NoteAdded
    | Notified
    | Audited
    | Escalated
    | EscalationDecided
    | ObjectCreated
    | DelayScheduled
    | DelayFinished
    | ClockStarted
    | ClockStopped
    | ClockMoved
    | ClockReported
)


# ----- outbox intents: what must reach the outside world --------------------------------


@dataclass(frozen=True)
class SendText:
    key: str
    text: str
    actor: Actor
    reply_to: int | None = None


@dataclass(frozen=True)
class SendTemplate:
    key: str
    template: str
    language: str
    variables: tuple[str, ...]
    header_variables: tuple[str, ...]
    button_variables: tuple[str, ...]
    preview: str
    actor: Actor


@dataclass(frozen=True)
class SendRich:
    """Buttons, a list, a location, a contact card or a reaction for the outbox."""

    key: str
    message: RichMessage
    actor: Actor


@dataclass(frozen=True)
class CallIntegration:
    key: str
    integration: str
    operation: str
    actor: Actor
    subject: str | None = None


@dataclass(frozen=True)
class RequestPayment:
    """A request is not a payment (DESIGN rule 8): only the provider's confirmation counts."""

    key: str
    provider: str
    amount: Decimal
    actor: Actor
    subject: str | None = None  # the object the payment is for
    currency: str | None = None


Intent = SendText | SendTemplate | SendRich | CallIntegration | RequestPayment


# ----- the rule history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Firing:
    """A rule acted on an event (or was stopped by the loop brake), with what it did."""

    rule: str
    event: DomainEvent
    outcome: str  # "fired" | "stopped"
    actions: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class EventTrace:
    """Every rule one event could meet, and why each did or did not act."""

    event: DomainEvent
    rules: tuple[RuleTrace, ...]


@dataclass(frozen=True)
class Refusal:
    """Why a person's change was not applied; a conflict is a race or a clash with the
    record as it is now (someone else acted first), else the request itself is invalid."""

    reason: str
    conflict: bool = False


@dataclass(frozen=True)
class Outcome:
    state: State
    events: tuple[DomainEvent, ...] = ()  # the input event and every follow-on, in order
    changes: tuple[Change, ...] = ()
    intents: tuple[Intent, ...] = ()
    firings: tuple[Firing, ...] = ()
    traces: tuple[EventTrace, ...] = ()
    refused: Refusal | None = None  # a command that was not applied, and why
    effects: tuple[Any, ...] = field(default=())  # every effect carried out, in order

    @property
    def ok(self) -> bool:
        return self.refused is None
