"""The state of one conversation, as the reducer reads and returns it: plain frozen data.

Loaded from the database by the engine's adapter, or built from a scenario file
by `kazi test`; either way `step` sees the same shape. Names are handles (a
teammate's `handle`, a team's `name`), never database ids, so a state means
the same thing in memory and in storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from engine.core.config import Teammate
from engine.core.rules.effects import LineItem
from engine.core.states import ConversationStatus, Priority, WaitingOn

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ConversationState:
    id: int
    number: str | None = None  # the business number's name in workspace.yaml ("sales")
    phone_number: str | None = None  # that number in E.164
    status: str = ConversationStatus.OPEN
    waiting_on: str | None = WaitingOn.US
    owner: str | None = None
    team: str | None = None
    priority: str = Priority.NORMAL
    pipeline: str | None = None
    stage: str | None = None
    tags: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    snoozed_until: datetime | None = None
    # Starts WhatsApp's 24-hour free-text window (DESIGN rule 9).
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    # A teammate's replies, which the SLA response clocks wait for (automatic sends do not count).
    first_reply_at: datetime | None = None
    last_reply_at: datetime | None = None
    messages: int = 0


@dataclass(frozen=True)
class ContactState:
    id: int | None = None
    name: str | None = None
    profile_name: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    company: str | None = None
    created_at: datetime | None = None
    conversations: int = 0
    fields: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class ObjectState:
    """A business object linked to the conversation (an order, a booking ...).

    `key` names it within the state: `db:<id>` once stored, `new:<n>` for one the
    step created, which the adapter inserts and learns the id of.
    """

    key: str
    kind: str
    id: int | None = None
    reference: str | None = None
    status: str = "open"
    amount: Decimal | None = None
    currency: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    created_at: datetime | None = None
    # What the object contains; when there are lines, `amount` is their sum.
    items: tuple[LineItem, ...] = ()


@dataclass(frozen=True)
class PendingDelay:
    """A delayed block of a rule, waiting for its time; its guard is checked when it runs."""

    key: str  # `db:<id>` once stored, `new:<n>` when scheduled by this step
    rule: str
    block: int
    due_at: datetime
    scheduled_at: datetime
    event_id: str  # the event that scheduled it
    stage: str | None = None  # the stage then, for the `stage changed` guard
    status: str | None = None  # the status then, for the `status changed` guard
    guard: str | None = None  # the guard's source text, for people reading the schedule
    subject: str | None = None  # the object key the triggering event was about


@dataclass(frozen=True)
class Clock:
    """A running SLA clock: first response, next response or resolution."""

    kind: str
    policy: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    key: str = ""  # `db:<id>` once stored
    # Pauses (engine.core.sla.Pause): time banked so far, and the pause going on, if any.
    paused_seconds: float = 0.0
    paused_at: datetime | None = None
    paused_until: datetime | None = None


@dataclass(frozen=True)
class Member:
    """A teammate as routing and notifications see them."""

    handle: str
    active: bool = True
    teams: tuple[str, ...] = ()
    capacity: int | None = None
    languages: tuple[str, ...] = ()
    open_load: int = 0  # open conversations they own, this one excluded
    last_assigned_at: datetime | None = None  # when they last got a new conversation
    away: bool = False  # set themselves away (stored in the database)
    # When they work (weekday, opens, closes) in the workspace's timezone; None: always.
    shifts: tuple[tuple[int, time, time], ...] | None = None


def shifts_of(teammate: Teammate | None) -> tuple[tuple[int, time, time], ...] | None:
    """A declared teammate's shifts as the roster carries them; None: always on shift."""
    if teammate is None or teammate.shifts is None:
        return None
    return tuple((s.weekday, s.opens, s.closes) for s in teammate.shifts)


@dataclass(frozen=True)
class Roster:
    """Who can be given work, and who had this customer last (for `sticky` routing)."""

    members: tuple[Member, ...] = ()
    previous_owner: str | None = None

    def member(self, handle: str | None) -> Member | None:
        return next((m for m in self.members if m.handle == handle), None)

    def team_members(self, team: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members if team in m.teams)


@dataclass(frozen=True)
class State:
    conversation: ConversationState
    contact: ContactState = field(default_factory=ContactState)
    objects: tuple[ObjectState, ...] = ()
    pending: tuple[PendingDelay, ...] = ()
    clocks: tuple[Clock, ...] = ()
    roster: Roster = field(default_factory=Roster)
    # Firings per rule on this conversation in the last hour, for the loop brake.
    recent_firings: Mapping[str, int] = field(default_factory=lambda: EMPTY)

    def object(self, key: str | None) -> ObjectState | None:
        return next((o for o in self.objects if o.key == key), None)

    def newest(self, kind: str) -> ObjectState | None:
        """The most recently linked object of a kind: what `order.amount` reads."""
        found = [o for o in self.objects if o.kind == kind]
        return found[-1] if found else None

    def with_object(self, updated: ObjectState) -> State:
        objects = tuple(updated if o.key == updated.key else o for o in self.objects)
        if updated.key not in {o.key for o in self.objects}:
            objects += (updated,)
        return replace(self, objects=objects)
