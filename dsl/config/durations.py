"""Durations as people write them in SLA policies: `30m`, `4h`, `2 days`, `3 business days`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS: dict[str, str] = {
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
}  # fmt: skip

_MINUTES_PER_UNIT = {"minutes": 1, "hours": 60, "days": 1440}

_DURATION = re.compile(r"^\s*([0-9]+)\s*(business\s+)?([a-z]+)\s*$")

EXAMPLES = "30m, 4h, 2d, 90 minutes, 2 business days"


@dataclass(frozen=True)
class ParsedDuration:
    amount: int
    unit: str  # "minutes" | "hours" | "days"
    business: bool  # written "business hours/days"

    @property
    def calendar_minutes(self) -> int:
        return self.amount * _MINUTES_PER_UNIT[self.unit]


def parse_duration(text: str) -> ParsedDuration | str:
    """The duration, or a sentence saying what is wrong with the text."""
    match = _DURATION.match(text.lower())
    if match is None:
        if text.strip().isdigit():
            return f"'{text}' has no unit"
        return f"'{text}' is not a duration"
    amount, business, unit_word = int(match.group(1)), bool(match.group(2)), match.group(3)
    unit = _UNITS.get(unit_word)
    if unit is None:
        return f"'{unit_word}' is not a unit of time"
    if amount == 0:
        return "a duration must be longer than zero"
    if business and unit == "minutes":
        return "business time is counted in hours or days, not minutes"
    return ParsedDuration(amount, unit, business)
