"""SLA deadlines, decided without I/O: which clocks run, and when each is due.

A response clock runs only while the business owes an answer (waiting on us),
so waiting on the customer pauses it by definition: first response from the
moment the conversation opened until the first reply, next response from the
customer's latest message until the next reply. Resolution runs from the
opening until the conversation is resolved. Business-hours policies count only
opening time on the workspace's calendar, holidays excluded.

Clocks can pause. Each policy says what pauses its resolution clock (`pause_when`:
waiting on the customer, snoozed; both by default) and whether a snoozed
conversation's first-response clock keeps running (the default) or pauses. A
pause banks the time it lasted, counted the way the target counts time (opening
time for business-hours targets), and the deadline moves on by that much. A
snooze ends by itself at its time, so its pause knows its end in advance and the
deadline already includes it; a pause for waiting on the customer ends when the
customer writes (or a teammate changes the status), and the deadline moves then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.calendar import BusinessCalendar, Duration
from engine.core.rules.graph import SlaTargets

__all__ = [
    "FIRST_RESPONSE_WHEN_SNOOZED",
    "PAUSE_REASONS",
    "ClockSpec",
    "ConversationTimes",
    "Pause",
    "SlaTargets",
    "advance_pause",
    "is_met",
    "pause_wanted",
    "paused_due",
    "running_clocks",
]

PAUSE_REASONS = ("waiting_on_customer", "snoozed")
FIRST_RESPONSE_WHEN_SNOOZED = ("keep_running", "pause")


@dataclass(frozen=True)
class ConversationTimes:
    opened_at: datetime
    last_customer_message_at: datetime | None
    first_reply_at: datetime | None  # our first reply, if any
    last_reply_at: datetime | None  # our latest reply, if any
    waiting_on_us: bool
    resolved: bool
    waiting_on_customer: bool = False
    snoozed: bool = False  # snoozed and the snooze has not run out
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class ClockSpec:
    kind: str  # "first_response" | "next_response" | "resolution"
    policy: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime | None
    duration: Duration | None = None  # the target, to count paused time as it counts


def running_clocks(
    targets: SlaTargets, times: ConversationTimes, calendar: BusinessCalendar
) -> list[ClockSpec]:
    """The clocks that should be running now for this conversation."""
    if times.resolved:
        return []
    clocks: list[ClockSpec] = []

    def clock(kind: str, duration: Duration | None, start: datetime) -> None:
        if duration is None:
            return
        due = duration.after(start, calendar)
        warn = due - targets.warn_before if targets.warn_before else None
        clocks.append(ClockSpec(kind, targets.policy, start, due, warn, duration))

    if times.first_reply_at is None:
        if times.waiting_on_us:
            clock("first_response", targets.first_response, times.opened_at)
    elif times.waiting_on_us and times.last_customer_message_at is not None:
        replied = times.last_reply_at or times.first_reply_at
        if times.last_customer_message_at > replied:
            clock("next_response", targets.next_response, times.last_customer_message_at)
    clock("resolution", targets.resolution, times.opened_at)
    return clocks


def is_met(kind: str, started_at: datetime, times: ConversationTimes) -> bool:
    """Has the clock's obligation been fulfilled since it started?"""
    if kind == "resolution":
        return times.resolved
    return times.last_reply_at is not None and times.last_reply_at >= started_at


@dataclass(frozen=True)
class Pause:
    """Where a clock's pauses stand: the time banked from finished pauses, and the current one.

    `paused_seconds` is counted as the clock's target counts time (opening time for
    business-hours targets). `paused_until` is when the current pause ends by itself
    (a snooze's end); None means it lasts until something changes.
    """

    paused_seconds: float = 0.0
    paused_at: datetime | None = None
    paused_until: datetime | None = None

    def is_paused(self, now: datetime) -> bool:
        return self.paused_at is not None and (self.paused_until is None or self.paused_until > now)


def pause_wanted(
    kind: str, targets: SlaTargets, times: ConversationTimes
) -> tuple[bool, datetime | None]:
    """Should this clock be paused now, and until when (None: until something changes)."""
    if times.resolved:
        return False, None
    if kind == "resolution":
        if "waiting_on_customer" in targets.pause_when and times.waiting_on_customer:
            return True, None
        if "snoozed" in targets.pause_when and times.snoozed:
            return True, times.snoozed_until
        return False, None
    snooze_pauses = kind == "first_response" and targets.first_response_when_snoozed == "pause"
    if snooze_pauses and times.snoozed:
        return True, times.snoozed_until
    return False, None


def advance_pause(
    pause: Pause,
    wanted: bool,
    until: datetime | None,
    now: datetime,
    duration: Duration,
    calendar: BusinessCalendar,
) -> Pause:
    """The pause after a step at `now`: bank a pause that ended, start one that is wanted."""
    banked, at, ends = pause.paused_seconds, pause.paused_at, pause.paused_until
    if at is not None and ends is not None and ends <= now:  # the snooze ran out by itself
        banked += duration.elapsed(at, ends, calendar)
        at = ends = None
    if at is not None and (not wanted or until != ends):  # resumed, or paused for another reason
        banked += duration.elapsed(at, now, calendar)
        at = ends = None
    if wanted and at is None:
        at, ends = now, until
    return Pause(banked, at, ends)


def paused_due(
    due: datetime, pause: Pause, duration: Duration, calendar: BusinessCalendar
) -> datetime:
    """The deadline `due` moved on by the paused time; a pause with a known end counts whole."""
    seconds = pause.paused_seconds
    if pause.paused_at is not None and pause.paused_until is not None:
        seconds += duration.elapsed(pause.paused_at, pause.paused_until, calendar)
    return duration.extend(due, seconds, calendar)
