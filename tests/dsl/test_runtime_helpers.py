"""Business-hours arithmetic, schedules, and picking the routing rule and SLA policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from dsl.workspace import compile_workspace
from engine.core.rules import (
    BusinessCalendar,
    DomainEvent,
    Duration,
    OpeningWindow,
    Schedule,
    Snapshot,
    next_run,
    roots,
)
from engine.core.step import Member, Roster
from engine.core.step.clocks import policy_for
from engine.core.step.routing import choose_owner
from engine.workspaces.installed import INSTALLED

ROOT = Path(__file__).resolve().parents[2]
NAIROBI = BusinessCalendar(
    "Africa/Nairobi",
    tuple(OpeningWindow(d, time(8), time(17)) for d in range(5)),
    frozenset({date(2026, 3, 3)}),
)


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    friday_4pm = datetime(2026, 2, 27, 13, 0, tzinfo=UTC)  # 16:00 in Nairobi
    assert NAIROBI.is_open(friday_4pm)
    # 2 business hours from Friday 16:00: 1 h on Friday, 1 h on Monday from 08:00.
    assert NAIROBI.add_business_seconds(friday_4pm, 7200) == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    # 1 business day from Monday: Tuesday is a holiday, so Wednesday, same hour.
    monday_10am = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert Duration(86400, True, "d", 1).after(monday_10am, NAIROBI) == datetime(
        2026, 3, 4, 7, 0, tzinfo=UTC
    )
    assert not NAIROBI.is_open(datetime(2026, 3, 3, 7, 0, tzinfo=UTC))
    assert not NAIROBI.is_open(datetime(2026, 2, 28, 7, 0, tzinfo=UTC))  # Saturday


def test_a_schedule_fires_next_on_its_day_and_local_time() -> None:
    weekdays_830 = Schedule((0, 1, 2, 3, 4), time(8, 30))
    friday_evening = datetime(2026, 2, 27, 15, 0, tzinfo=UTC)
    assert next_run(weekdays_830, friday_evening, NAIROBI) == datetime(
        2026, 3, 2, 5, 30, tzinfo=UTC
    )
    just_before = datetime(2026, 3, 2, 5, 29, tzinfo=UTC)
    assert next_run(weekdays_830, just_before, NAIROBI) == datetime(2026, 3, 2, 5, 30, tzinfo=UTC)


def test_routing_and_sla_follow_the_yaml_order() -> None:
    graph = compile_workspace(ROOT / "configs" / "retail", capabilities=INSTALLED).graph
    assert graph is not None
    open_hours = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 11:00 Monday in Nairobi
    warranty = DomainEvent(
        "message_received", "m1", open_hours, data={"message": {"text": "My TV is broken"}}
    )
    roster = Roster((Member("kevin", teams=("aftersales",)),))
    route = choose_owner(graph, roots(warranty, Snapshot({}, {})), roster, open_hours)
    assert route is not None and route.team == "aftersales" and route.owner == "kevin"
    night = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    route = choose_owner(graph, roots(warranty, Snapshot({}, {})), roster, night)
    assert route is not None and route.rule == "after hours"

    def policy(snapshot: Snapshot) -> str | None:
        chosen = policy_for(graph, roots(None, snapshot), open_hours)
        return chosen.name if chosen is not None else None

    assert policy(Snapshot({"stage": "payment"}, {"tags": []})) == "waiting for payment"
    assert policy(Snapshot({"stage": "payment"}, {"tags": ["vip"]})) == "vip"
    assert policy(Snapshot({}, {})) == "standard"
