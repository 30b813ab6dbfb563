"""Opening hours as written in workspace.yaml: `08:00-13:00, 14:00-17:00` or `closed`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Period:
    opens: time
    closes: time
    offset: int  # where the period's text starts within the day's text


def parse_day(text: str) -> list[Period]:
    """The periods of one day. The schema has already checked the text's form."""
    if text.strip() == "closed":
        return []
    periods: list[Period] = []
    offset = 0
    for part in text.split(","):
        stripped = part.strip()
        start = offset + (len(part) - len(part.lstrip()))
        opens, closes = stripped.split("-")
        periods.append(Period(time.fromisoformat(opens), time.fromisoformat(closes), start))
        offset += len(part) + 1
    return periods


def minutes_between(opens: time, closes: time) -> int:
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
