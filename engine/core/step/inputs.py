"""What goes into `step`: a domain event, a change someone makes, or a moment that came due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.effects import Effect
from engine.core.rules.events import DomainEvent
from engine.core.states import ActorKind
from engine.core.step.state import PendingDelay


@dataclass(frozen=True)
class Actor:
    """Who made a change: a teammate (or an API client), a rule, the customer, or Kazi.

    `id` is the adapter's own reference (a teammate's row id) carried through for the
    audit trail; the reducer never reads it.
    """

    kind: str
    name: str | None = None
    id: int | None = None

    @classmethod
    def rule(cls, name: str) -> Actor:
        return cls(ActorKind.RULE, name)

    @property
    def is_rule(self) -> bool:
        return self.kind == ActorKind.RULE

    @property
    def is_person(self) -> bool:
        return self.kind == ActorKind.TEAMMATE


SYSTEM = Actor(ActorKind.SYSTEM, "kazi")


@dataclass(frozen=True)
class Command:
    """A change someone asks for: the same effects a rule produces, on their authority.

    Staff actions from the inbox and the API enter the engine this way (DESIGN: the
    flow), so automations see them exactly as they see a rule's change. A command
    either applies whole or is refused whole, with the reason.
    """

    id: str
    actor: Actor
    effects: tuple[Effect, ...]
    occurred_at: datetime


@dataclass(frozen=True)
class DelayDue:
    """A delayed block reached its time. The adapter hands over the one it claimed; it leaves
    `State.pending` as it runs."""

    delay: PendingDelay


@dataclass(frozen=True)
class ClockDue:
    """An SLA clock of this kind reached its warning or its deadline."""

    kind: str


Input = DomainEvent | Command | DelayDue | ClockDue
