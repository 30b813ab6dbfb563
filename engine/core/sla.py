"""SLA deadlines, decided without I/O: which clocks run, and when each is due.

A response clock runs only while the business owes an answer (waiting on us),
so waiting on the customer pauses it by definition: first response from the
moment the conversation opened until the first reply, next response from the
customer's latest message until the next reply. Resolution runs from the
opening until the conversation is resolved. Business-hours policies count only
opening time on the workspace's calendar, holidays excluded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.core.rules.calendar import BusinessCalendar, Duration
from engine.core.rules.graph import SlaTargets

__all__ = ["ClockSpec", "ConversationTimes", "SlaTargets", "is_met", "running_clocks"]


@dataclass(frozen=True)
class ConversationTimes:
    opened_at: datetime
    last_customer_message_at: datetime | None
    first_reply_at: datetime | None  # our first reply, if any
    last_reply_at: datetime | None  # our latest reply, if any
    waiting_on_us: bool
    resolved: bool


@dataclass(frozen=True)
class ClockSpec:
    kind: str  # "first_response" | "next_response" | "resolution"
    policy: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime | None


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
        clocks.append(ClockSpec(kind, targets.policy, start, due, warn))

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
