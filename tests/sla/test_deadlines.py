"""SLA arithmetic (engine.core.sla): business hours, weekends, holidays, two timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.core.rules.calendar import BusinessCalendar, Duration, OpeningWindow
from engine.core.sla import ConversationTimes, SlaTargets, is_met, running_clocks

NAIROBI = ZoneInfo("Africa/Nairobi")
LONDON = ZoneInfo("Europe/London")


def week(
    opens: time, closes: time, days: range, **extra: tuple[time, time]
) -> tuple[OpeningWindow, ...]:
    windows = [OpeningWindow(day, opens, closes) for day in days]
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    windows += [OpeningWindow(names.index(name), *span) for name, span in extra.items()]
    return tuple(windows)


def hours(n: float) -> Duration:
    return Duration(n * 3600, True, "h", n)


def first_response_due(calendar: BusinessCalendar, opened: datetime, target: Duration) -> datetime:
    targets = SlaTargets("standard", target, None, None, timedelta(minutes=10))
    times = ConversationTimes(opened, opened, None, None, waiting_on_us=True, resolved=False)
    [clock] = running_clocks(targets, times, calendar)
    assert clock.kind == "first_response" and clock.started_at == opened
    assert clock.warn_at == clock.due_at - timedelta(minutes=10)
    return clock.due_at


def test_nairobi_over_christmas_and_a_sunday() -> None:
    duka = BusinessCalendar(
        "Africa/Nairobi",
        week(time(8, 30), time(18, 30), range(5), saturday=(time(9), time(17))),
        frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
    )
    # Thursday 24 Dec, 18:00 in Nairobi: half an hour today, then Friday and Saturday are
    # holidays and Sunday is closed, so the other 90 minutes run on Monday from 08:30.
    opened = datetime(2026, 12, 24, 18, 0, tzinfo=NAIROBI)
    due = first_response_due(duka, opened, hours(2))
    assert due == datetime(2026, 12, 28, 10, 0, tzinfo=NAIROBI)
    assert due.astimezone(UTC) == datetime(2026, 12, 28, 7, 0, tzinfo=UTC)


def test_london_over_a_weekend_a_bank_holiday_and_the_clock_change() -> None:
    office = BusinessCalendar(
        "Europe/London",
        week(time(9), time(17), range(5)),
        frozenset({date(2026, 12, 28)}),  # the substitute Boxing Day bank holiday
    )
    friday = datetime(2026, 12, 18, 16, 30, tzinfo=LONDON)
    assert first_response_due(office, friday, hours(4)) == datetime(
        2026, 12, 21, 12, 30, tzinfo=LONDON
    )
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)  # Thu; Fri 25 is not listed
    assert first_response_due(office, christmas_eve, hours(10)) == datetime(
        2026, 12, 29, 10, 0, tzinfo=LONDON
    )
    # Clocks go forward on Sunday 29 March 2026: Friday is GMT, Monday is BST.
    before_change = datetime(2026, 3, 27, 16, 0, tzinfo=LONDON)
    due = first_response_due(office, before_change, hours(2))
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_business_days_land_on_the_same_local_time_of_the_next_open_day() -> None:
    duka = BusinessCalendar(
        "Africa/Nairobi",
        week(time(8, 30), time(18, 30), range(5)),
        frozenset({date(2026, 6, 1)}),  # Madaraka Day, a Monday
    )
    friday = datetime(2026, 5, 29, 11, 0, tzinfo=NAIROBI)
    assert Duration(2 * 86400, True, "d", 2).after(friday, duka) == datetime(
        2026, 6, 3, 11, 0, tzinfo=NAIROBI
    )


def test_which_clocks_run_follows_who_owes_an_answer() -> None:
    calendar = BusinessCalendar()
    targets = SlaTargets("standard", hours(0.5), hours(1), hours(48), None)
    opened = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    replied = opened + timedelta(minutes=20)
    again = opened + timedelta(hours=2)

    def kinds(times: ConversationTimes) -> list[str]:
        return [clock.kind for clock in running_clocks(targets, times, calendar)]

    new = ConversationTimes(opened, opened, None, None, True, False)
    assert kinds(new) == ["first_response", "resolution"]
    answered = ConversationTimes(opened, opened, replied, replied, False, False)
    assert kinds(answered) == ["resolution"]  # waiting on the customer: paused
    asked_again = ConversationTimes(opened, again, replied, replied, True, False)
    [next_response, _] = running_clocks(targets, asked_again, calendar)
    assert (next_response.kind, next_response.started_at) == ("next_response", again)
    assert next_response.due_at == again + timedelta(hours=1)
    assert kinds(ConversationTimes(opened, again, replied, replied, True, True)) == []
    assert is_met("first_response", opened, answered)
    assert not is_met("next_response", again, asked_again)
