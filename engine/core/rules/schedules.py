"""When a scheduled rule (`when every weekday at 08:30`) next fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.core.rules.calendar import BusinessCalendar
from engine.core.rules.graph import Schedule


def next_run(schedule: Schedule, after: datetime, calendar: BusinessCalendar) -> datetime:
    """The first instant strictly after `after` at which the schedule fires, in UTC.

    Times are the workspace's local times (its calendar's timezone); holidays do not skip
    a schedule, conditions can (`if within business hours`).
    """
    local = calendar.local(after)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in schedule.days:
            continue
        candidate = datetime.combine(day, schedule.at, local.tzinfo)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise ValueError("a schedule needs at least one weekday")
