"""Paused SLA clocks, pure arithmetic (engine.core.sla): opening time over Christmas in Nairobi.

The calendar is the retail sample's: weekdays 08:30-18:30, Saturday 09:00-17:00,
Sunday closed, and Christmas (Friday 25) and Boxing Day (Saturday 26 December 2026)
are public holidays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.core.rules.calendar import BusinessCalendar, Duration, OpeningWindow
from engine.core.sla import (
    ConversationTimes,
    Pause,
    SlaTargets,
    advance_pause,
    pause_wanted,
    paused_due,
    running_clocks,
)

NAIROBI = ZoneInfo("Africa/Nairobi")
DUKA = BusinessCalendar(
    "Africa/Nairobi",
    (
        *(OpeningWindow(day, time(8, 30), time(18, 30)) for day in range(5)),
        OpeningWindow(5, time(9), time(17)),
    ),
    frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)
TWO_BUSINESS_DAYS = Duration(2 * 86400, True, "d", 2)
FOUR_HOURS = Duration(4 * 3600, True, "h", 4)
STANDARD = SlaTargets(
    "standard", Duration(1800, True, "m", 30), None, TWO_BUSINESS_DAYS, timedelta(minutes=10)
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=NAIROBI)


def times(**changes: object) -> ConversationTimes:
    values: dict[str, object] = {
        "opened_at": at(23, 10),
        "last_customer_message_at": at(23, 10),
        "first_reply_at": None,
        "last_reply_at": None,
        "waiting_on_us": True,
        "resolved": False,
    }
    values.update(changes)
    return ConversationTimes(**values)  # type: ignore[arg-type]


def test_opening_time_between_two_instants_skips_the_holidays_and_sunday() -> None:
    # Thursday 24, 17:30 to Monday 28, 09:30: an hour on Christmas Eve, nothing on
    # Christmas, Boxing Day (a Saturday) or Sunday, an hour on Monday morning.
    assert DUKA.business_seconds_between(at(24, 17, 30), at(28, 9, 30)) == 2 * 3600
    assert DUKA.business_seconds_between(at(28, 9, 30), at(24, 17, 30)) == 0
    # A calendar with no hours counts every second.
    assert BusinessCalendar().business_seconds_between(at(24, 17), at(28, 9)) == 88 * 3600


def test_waiting_on_the_customer_moves_the_resolution_deadline_by_the_paused_opening_time() -> None:
    [resolution] = [c for c in running_clocks(STANDARD, times(), DUKA) if c.kind == "resolution"]
    # Two business days from Wednesday 23, 10:00: Thursday, then (past the holidays and
    # Sunday) Monday 28 at 10:00.
    assert resolution.due_at == at(28, 10).astimezone(UTC)
    waiting = times(waiting_on_us=False, waiting_on_customer=True, first_reply_at=at(23, 16, 30))
    assert pause_wanted("resolution", STANDARD, waiting) == (True, None)
    paused = advance_pause(Pause(), True, None, at(23, 16, 30), TWO_BUSINESS_DAYS, DUKA)
    assert paused == Pause(0.0, at(23, 16, 30), None)
    assert paused.is_paused(at(28, 12))  # open-ended: paused until the customer writes
    # While paused the deadline does not move yet (and nothing is reported).
    assert paused_due(resolution.due_at, paused, TWO_BUSINESS_DAYS, DUKA) == resolution.due_at
    # The customer writes on Christmas Eve at 10:30: 2 hours on Wednesday evening and
    # 2 on Thursday morning were paused, so the deadline is Monday 28 at 14:00.
    resumed = advance_pause(paused, False, None, at(24, 10, 30), TWO_BUSINESS_DAYS, DUKA)
    assert resumed == Pause(4 * 3600.0, None, None)
    assert not resumed.is_paused(at(24, 10, 30))
    assert paused_due(resolution.due_at, resumed, TWO_BUSINESS_DAYS, DUKA) == at(28, 14)


def test_a_snooze_knows_its_end_so_the_deadline_moves_when_it_starts() -> None:
    due = at(28, 10)
    # Snoozed on Christmas Eve at 12:00 until Monday 28 at 09:00: 6.5 hours on Thursday,
    # none over the holidays and Sunday, half an hour on Monday: 7 hours in all.
    snoozed = advance_pause(Pause(), True, at(28, 9), at(24, 12), TWO_BUSINESS_DAYS, DUKA)
    assert paused_due(due, snoozed, TWO_BUSINESS_DAYS, DUKA) == at(28, 17)
    assert snoozed.is_paused(at(28, 8, 59)) and not snoozed.is_paused(at(28, 9))
    # The snooze runs out by itself; the next step banks exactly its 7 hours.
    later = advance_pause(snoozed, False, None, at(28, 11), TWO_BUSINESS_DAYS, DUKA)
    assert later == Pause(7 * 3600.0, None, None)
    assert paused_due(due, later, TWO_BUSINESS_DAYS, DUKA) == at(28, 17)
    # Woken early by the customer at 13:00 on Thursday: only one hour was paused.
    woken = advance_pause(snoozed, False, None, at(24, 13), TWO_BUSINESS_DAYS, DUKA)
    assert paused_due(due, woken, TWO_BUSINESS_DAYS, DUKA) == at(28, 11)


def test_pauses_add_up_and_a_longer_snooze_replaces_the_shorter_one() -> None:
    due = at(28, 10)
    first = advance_pause(Pause(), True, None, at(23, 17, 30), FOUR_HOURS, DUKA)
    first = advance_pause(first, False, None, at(23, 18, 30), FOUR_HOURS, DUKA)  # 1 hour
    second = advance_pause(first, True, at(24, 12), at(24, 10), FOUR_HOURS, DUKA)  # 2 hours
    assert paused_due(due, second, FOUR_HOURS, DUKA) == at(28, 13)
    # Snoozed again at 11:00 until Monday 08:45: the first snooze counts an hour, the new
    # one 7.5 + 0.25 hours; Monday 10:00 plus 9.75 opening hours is Tuesday 09:45.
    again = advance_pause(second, True, at(28, 8, 45), at(24, 11), FOUR_HOURS, DUKA)
    assert again.paused_seconds == 2 * 3600 and again.paused_at == at(24, 11)
    assert paused_due(due, again, FOUR_HOURS, DUKA) == at(29, 9, 45)


def test_what_pauses_follows_the_policy() -> None:
    snoozed = times(snoozed=True, snoozed_until=at(28, 9))
    waiting = times(waiting_on_us=False, waiting_on_customer=True)
    # The default: both pause resolution; the first-response clock keeps running.
    assert pause_wanted("resolution", STANDARD, snoozed) == (True, at(28, 9))
    assert pause_wanted("resolution", STANDARD, waiting) == (True, None)
    assert pause_wanted("first_response", STANDARD, snoozed) == (False, None)
    assert pause_wanted("next_response", STANDARD, snoozed) == (False, None)
    strict = SlaTargets(
        "strict",
        STANDARD.first_response,
        None,
        TWO_BUSINESS_DAYS,
        None,
        pause_when=frozenset({"snoozed"}),
        first_response_when_snoozed="pause",
    )
    assert pause_wanted("resolution", strict, waiting) == (False, None)
    assert pause_wanted("resolution", strict, snoozed) == (True, at(28, 9))
    assert pause_wanted("first_response", strict, snoozed) == (True, at(28, 9))
    never = SlaTargets("never", None, None, TWO_BUSINESS_DAYS, None, pause_when=frozenset())
    assert pause_wanted("resolution", never, snoozed) == (False, None)
    # Both at once: waiting on the customer has no end of its own, so the pause is open.
    both = times(
        waiting_on_us=False, waiting_on_customer=True, snoozed=True, snoozed_until=at(28, 9)
    )
    assert pause_wanted("resolution", STANDARD, both) == (True, None)
    assert pause_wanted("resolution", STANDARD, times(resolved=True, snoozed=True)) == (
        False,
        None,
    )


def test_calendar_time_targets_count_every_paused_second() -> None:
    four_hours = Duration(4 * 3600, False, "h", 4)
    pause = advance_pause(Pause(), True, None, at(24, 18), four_hours, DUKA)
    pause = advance_pause(pause, False, None, at(25, 10), four_hours, DUKA)
    assert pause.paused_seconds == 16 * 3600
    assert paused_due(at(24, 20), pause, four_hours, DUKA) == at(25, 12)
