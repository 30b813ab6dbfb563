"""What each fact contributes to the report tallies (engine.conversations.tallies): pure arithmetic.

A conversation's contribution is a function of a few facts about it (`ConversationFacts`);
the rollups apply `contribution(after) - contribution(before)`, and the recount sums
`contribution` over every conversation, so both are the same function by construction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.core.rules.calendar import BusinessCalendar

# Durations are kept as histograms with 8 bins per doubling: a median or p90 read from
# them is within about 4.5% of the exact (nearest-rank) value, and a day's row count stays small.
BINS_PER_DOUBLING = 8

OPENED = "opened"
RESOLVED = "resolved"
FIRST_RESPONSE = "first_response"
SLA_MET = "sla_met"
SLA_MISSED = "sla_missed"
SLA_BREACHED = "sla_breached"
STAGE_ENTERED = "stage_entered"
STAGE_LEFT = "stage_left"  # slot/total: the time spent in the stage left
MESSAGES_IN = "messages_in"
MESSAGES_OUT = "messages_out"  # slot: hour of the week, Monday 00:00 = 0


@dataclass(frozen=True, order=True)
class TallyKey:
    day: date
    measure: str
    teammate_id: int = 0
    team_id: int = 0
    number: str = ""
    pipeline: str = ""
    stage: str = ""
    policy: str = ""
    clock: str = ""
    slot: int = 0

    def as_row(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "measure": self.measure,
            "teammate_id": self.teammate_id,
            "team_id": self.team_id,
            "number": self.number,
            "pipeline": self.pipeline,
            "stage": self.stage,
            "policy": self.policy,
            "clock": self.clock,
            "slot": self.slot,
        }


class Tally(Counter[tuple[TallyKey, str]]):
    """Counts and totals per key: self[(key, "count")], self[(key, "total")]."""

    def add(self, key: TallyKey, seconds: int = 0, times: int = 1) -> None:
        self[(key, "count")] += times
        self[(key, "total")] += seconds * times

    def rows(self) -> dict[TallyKey, tuple[int, int]]:
        """Non-zero keys -> (count, total)."""
        keys = {key for key, _ in self}
        found = {k: (self[(k, "count")], self[(k, "total")]) for k in keys}
        return {k: v for k, v in found.items() if v != (0, 0)}

    def minus(self, other: Tally) -> Tally:
        out = Tally()
        for item in set(self) | set(other):
            out[item] = self[item] - other[item]
        return out


def zone_of(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_day(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def hour_of_week(instant: datetime, zone: tzinfo) -> int:
    local = instant.astimezone(zone)
    return local.weekday() * 24 + local.hour


def duration_bin(seconds: int) -> int:
    """The histogram bin of a duration: 0 for 0 s, then 8 bins per doubling."""
    if seconds <= 0:
        return 0
    return 1 + math.floor(BINS_PER_DOUBLING * math.log2(seconds))


def bin_middle(slot: int) -> float:
    """The value a bin stands for: the geometric middle of its bounds (0 for bin 0)."""
    if slot <= 0:
        return 0.0
    return float(2 ** ((slot - 0.5) / BINS_PER_DOUBLING))


def quantile(histogram: dict[int, int], q: float) -> float | None:
    """The q-quantile (0..1) of a duration histogram by nearest rank: the middle of the
    bin holding the ceil(q*n)-th smallest duration. None when the histogram is empty."""
    total = sum(count for count in histogram.values() if count > 0)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for slot in sorted(histogram):
        seen += max(0, histogram[slot])
        if seen >= rank:
            return bin_middle(slot)
    return bin_middle(max(histogram))


def business_seconds(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Opening time between two instants on the calendar (all the time when no hours)."""
    if end <= start:
        return 0
    if not calendar.windows:
        return int((end - start).total_seconds())
    begin, finish = calendar.local(start), calendar.local(end)
    total = 0.0
    day = begin.date()
    while day <= finish.date():
        for opens, closes in calendar._windows_on(day):
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > timedelta(0):
                total += overlap.total_seconds()
        day += timedelta(days=1)
    return int(total)


@dataclass(frozen=True)
class ClockFacts:
    policy: str
    kind: str
    stopped_at: datetime | None
    met: bool | None
    breached_at: datetime | None


@dataclass(frozen=True)
class ConversationFacts:
    """What the reports know of one conversation."""

    opened_at: datetime
    number: str
    teammate_id: int
    team_id: int
    pipeline: str
    resolved_at: datetime | None  # only while resolved
    first_response_at: datetime | None  # the first reply a teammate wrote
    clocks: tuple[ClockFacts, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "opened_at": iso(self.opened_at),
            "number": self.number,
            "teammate_id": self.teammate_id,
            "team_id": self.team_id,
            "pipeline": self.pipeline,
            "resolved_at": iso(self.resolved_at),
            "first_response_at": iso(self.first_response_at),
            "clocks": [
                [c.policy, c.kind, iso(c.stopped_at), c.met, iso(c.breached_at)]
                for c in self.clocks
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationFacts:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        opened = when(data["opened_at"])
        assert opened is not None
        return cls(
            opened_at=opened,
            number=data["number"],
            teammate_id=data["teammate_id"],
            team_id=data["team_id"],
            pipeline=data["pipeline"],
            resolved_at=when(data["resolved_at"]),
            first_response_at=when(data["first_response_at"]),
            clocks=tuple(ClockFacts(p, k, when(s), m, when(b)) for p, k, s, m, b in data["clocks"]),
        )


def contribution(
    facts: ConversationFacts | None, zone: tzinfo, calendar: BusinessCalendar
) -> Tally:
    """The tallies one conversation adds, given its facts."""
    tally = Tally()
    if facts is None:
        return tally

    def key(measure: str, at: datetime, **more: Any) -> TallyKey:
        return TallyKey(
            day=local_day(at, zone),
            measure=measure,
            teammate_id=facts.teammate_id,
            team_id=facts.team_id,
            number=facts.number,
            pipeline=facts.pipeline,
            **more,
        )

    tally.add(key(OPENED, facts.opened_at))
    for measure, at in ((RESOLVED, facts.resolved_at), (FIRST_RESPONSE, facts.first_response_at)):
        if at is None:
            continue
        seconds = business_seconds(calendar, facts.opened_at, at)
        tally.add(key(measure, at, slot=duration_bin(seconds)), seconds)
    for clock in facts.clocks:
        if clock.met is not None and clock.stopped_at is not None:
            measure = SLA_MET if clock.met else SLA_MISSED
            tally.add(key(measure, clock.stopped_at, policy=clock.policy, clock=clock.kind))
        if clock.breached_at is not None:
            tally.add(key(SLA_BREACHED, clock.breached_at, policy=clock.policy, clock=clock.kind))
    return tally


def stage_contribution(
    *,
    at: datetime,
    pipeline: str | None,
    from_stage: str | None,
    to_stage: str | None,
    teammate_id: int | None,
    entered_previous_at: datetime | None,
    zone: tzinfo,
) -> Tally:
    """One stage move: an entry into `to_stage`, an exit from `from_stage` with its time."""
    tally = Tally()
    day = local_day(at, zone)
    who, where = teammate_id or 0, pipeline or ""
    if to_stage:
        tally.add(TallyKey(day, STAGE_ENTERED, teammate_id=who, pipeline=where, stage=to_stage))
    if from_stage and entered_previous_at is not None:
        seconds = max(0, int((at - entered_previous_at).total_seconds()))
        left = TallyKey(
            day,
            STAGE_LEFT,
            teammate_id=who,
            pipeline=where,
            stage=from_stage,
            slot=duration_bin(seconds),
        )
        tally.add(left, seconds)
    return tally


def message_contribution(
    *, at: datetime, inbound: bool, number: str, teammate_id: int | None, zone: tzinfo
) -> Tally:
    tally = Tally()
    tally.add(
        TallyKey(
            local_day(at, zone),
            MESSAGES_IN if inbound else MESSAGES_OUT,
            teammate_id=teammate_id or 0,
            number=number,
            slot=hour_of_week(at, zone),
        )
    )
    return tally


def merge(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for tally in tallies:
        out.update(tally)
    return out
