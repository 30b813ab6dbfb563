"""Business hours arithmetic: is the business open, and when is N business hours or days later."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SEARCH_DAYS = 400  # a year of closed days is a broken calendar, not a reason to loop forever


@dataclass(frozen=True)
class OpeningWindow:
    weekday: int  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in the workspace's timezone, minus holidays. No hours means always open."""

    timezone: str = "UTC"
    windows: tuple[OpeningWindow, ...] = ()
    holidays: frozenset[date] = frozenset()
    _zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone: tzinfo = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        object.__setattr__(self, "_zone", zone)

    def local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self._zone)

    def _windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        spans = []
        for window in self.windows:
            if window.weekday == day.weekday() and window.closes > window.opens:
                start = datetime.combine(day, window.opens, self._zone)
                end = datetime.combine(day, window.closes, self._zone)
                spans.append((start, end))
        return sorted(spans)

    def is_open(self, instant: datetime) -> bool:
        if not self.windows:
            return True
        local = self.local(instant)
        return any(start <= local < end for start, end in self._windows_on(local.date()))

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of opening time have passed after `start`."""
        if not self.windows:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=max(0.0, seconds))
        cursor = self.local(start)
        day = cursor.date()
        for _ in range(_SEARCH_DAYS):
            for opens, closes in self._windows_on(day):
                begin = max(opens, cursor)
                if begin >= closes:
                    continue
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
        return start + timedelta(seconds=seconds)

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """How much opening time lies between `start` and `end` (0 when end is not later)."""
        if end <= start:
            return 0.0
        if not self.windows:
            return (end - start).total_seconds()
        begin, finish = self.local(start), self.local(end)
        total = timedelta()
        day = begin.date()
        while day <= finish.date():
            for opens, closes in self._windows_on(day):
                overlap = min(closes, finish) - max(opens, begin)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds()

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the `days`-th following open day, kept inside its hours."""
        if not self.windows:
            return start + timedelta(days=days)
        local = self.local(start)
        day = local.date()
        counted = 0
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=1)
            spans = self._windows_on(day)
            if not spans:
                continue
            counted += 1
            if counted >= days:
                target = datetime.combine(day, local.time().replace(tzinfo=None), self._zone)
                first_open, last_close = spans[0][0], spans[-1][1]
                target = min(max(target, first_open), last_close)
                return target.astimezone(UTC)
        return start + timedelta(days=days)


@dataclass(frozen=True)
class Duration:
    """A delay or due time: plain seconds, or business hours/days counted on the calendar."""

    seconds: float
    business: bool = False
    unit: str = "s"  # "s" | "m" | "h" | "d" | "w"
    amount: float = 0

    def after(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        if not self.business:
            return start + timedelta(seconds=self.seconds)
        if self.unit == "d":
            return calendar.add_business_days(start, int(self.amount))
        return calendar.add_business_seconds(start, self.seconds)

    def elapsed(self, start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
        """Seconds between two instants as this duration counts them (opening time or not)."""
        if not self.business:
            return max(0.0, (end - start).total_seconds())
        return calendar.business_seconds_between(start, end)

    def extend(self, due: datetime, seconds: float, calendar: BusinessCalendar) -> datetime:
        """`due` moved on by `seconds` counted the way this duration counts time."""
        if seconds <= 0:
            return due
        if not self.business:
            return due + timedelta(seconds=seconds)
        return calendar.add_business_seconds(due, seconds)

    def describe(self) -> str:
        names = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        word = names[self.unit] + ("" if amount == 1 else "s")
        return f"{amount} {'business ' if self.business else ''}{word}"
