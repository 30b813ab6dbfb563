"""When a scheduled rule ("every weekday at 08:30") last came due, decided without I/O."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo


def latest_occurrence(
    days: tuple[int, ...], at: time, zone: tzinfo, now: datetime, within: timedelta
) -> datetime | None:
    """The most recent local `at` on one of `days` (0 = Monday) that is not after `now`
    and not older than `within`; None when there is none in that window."""
    local_now = now.astimezone(zone)
    for back in range(0, 8):
        day = (local_now - timedelta(days=back)).date()
        if day.weekday() not in days:
            continue
        occurrence = datetime.combine(day, at, zone)
        if occurrence <= local_now:
            return occurrence if now - occurrence <= within else None
    return None
