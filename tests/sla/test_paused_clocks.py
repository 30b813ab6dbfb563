"""Paused SLA clocks on real conversations of the retail sample, over Christmas in Nairobi.

The shop opens 08:30-18:30 on weekdays, 09:00-17:00 on Saturdays; Christmas (Friday
25) and Boxing Day (Saturday 26 December 2026) are holidays in its workspace.yaml.
The standard policy: first response 30 business minutes, resolution 2 business days,
warnings 10 minutes before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.conversations.tallies import recount, stored
from engine.core.tallies import SLA_BREACHED, SLA_MET, SLA_MISSED
from engine.db import unit_of_work, workspace_session
from engine.inbox.replies import reply_text
from engine.inbox.work import set_status, snooze
from engine.models import Conversation, SlaClock, Teammate
from engine.sla.clocks import check_clock
from tests.automation.test_inbound_rules import Shop
from tests.sla.test_breaches import check_due

NAIROBI = ZoneInfo("Africa/Nairobi")
CUSTOMER = "254722300101"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=NAIROBI).astimezone(UTC)


def shop_with(db: Engine, retail_copy: tuple[Path, str], policy_lines: str = "") -> Shop:
    config_dir, slug = retail_copy
    if policy_lines:
        sla = config_dir / slug / "sla.yaml"
        text = sla.read_text("utf-8")
        anchor = "  - name: standard\n"
        assert anchor in text
        sla.write_text(text.replace(anchor, anchor + policy_lines), "utf-8")
    shop = Shop(db, config_dir, slug)
    shop.clock.set(at(24, 10))
    return shop


def staff(shop: Shop, work: Callable[[Any, Principal, int, datetime], object]) -> None:
    with workspace_session(shop.db, shop.workspace_id) as session:
        wanjiru = session.scalars(select(Teammate).where(Teammate.handle == "wanjiru")).one()
        [conversation_id] = session.scalars(select(Conversation.id))
    manager = Principal(shop.workspace_id, Role.MANAGER, "wanjiru", teammate_id=wanjiru.id)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        desk = desk_for(session, rules_in_force(session, shop.configs, shop.workspace_id))
        work(desk, manager, conversation_id, shop.clock.now())


def reply(shop: Shop) -> None:
    staff(
        shop,
        lambda desk, who, cid, now: reply_text(
            desk, who, cid, "Tunaangalia", now=now, confirmed=True
        ),
    )


def snooze_until(shop: Shop, until: datetime) -> None:
    staff(shop, lambda desk, who, cid, now: snooze(desk, who, cid, until, now))


def running(shop: Shop) -> dict[str, SlaClock]:
    return {c.kind: c for c in shop.rows(SlaClock, SlaClock.stopped_at.is_(None))}


def test_waiting_on_the_customer_over_christmas_pauses_resolution_until_they_write(
    db: Engine, retail_copy: tuple[Path, str]
) -> None:
    shop = shop_with(db, retail_copy)
    shop.customer_says(CUSTOMER, "Nataka kurudisha TV, imevunjika")
    resolution = running(shop)["resolution"]
    # Two business days from Christmas Eve 10:00: Monday 28, then Tuesday 29 at 10:00.
    assert resolution.due_at == at(29, 10)

    shop.clock.set(at(24, 10, 10))
    reply(shop)  # the first response is met; now the customer has the ball
    clocks = running(shop)
    assert set(clocks) == {"resolution"}
    paused = clocks["resolution"]
    assert (paused.id, paused.paused_at, paused.paused_until) == (
        resolution.id,
        at(24, 10, 10),
        None,
    )

    # Past the original deadline and its warning, still waiting on the customer: the
    # sweeper does not hand the clock out, and a job already queued reports nothing.
    shop.clock.set(at(29, 10, 30))
    assert resolution.id not in check_due(shop)
    check_clock(clock_id=resolution.id, db=shop.db, clock=shop.clock, configs=shop.configs)
    still = running(shop)["resolution"]
    assert (still.warned_at, still.breached_at) == (None, None)

    # The customer writes on Tuesday 29 at 11:00. Paused opening time: Thursday 10:10 to
    # 18:30 (8h20), none over Christmas, Boxing Day and Sunday, Monday 08:30-18:30
    # (10h), Tuesday 08:30-11:00 (2h30): 20h50. Tuesday 10:00 plus 20h50 of opening
    # time: 8h30 on Tuesday, 10h on Wednesday, 2h20 on Thursday 31: 10:50.
    shop.clock.set(at(29, 11))
    shop.customer_says(CUSTOMER, "Mko?")
    resumed = running(shop)["resolution"]
    assert resumed.id == resolution.id
    assert (resumed.paused_at, resumed.paused_seconds) == (None, 20 * 3600 + 50 * 60)
    assert (resumed.due_at, resumed.warn_at) == (at(31, 10, 50), at(31, 10, 40))
    [conversation] = shop.rows(Conversation)
    assert conversation.resolution_due_at == at(31, 10, 50)

    shop.clock.set(at(31, 10, 39))
    assert resolution.id not in check_due(shop)
    shop.clock.set(at(31, 10, 51))
    assert resolution.id in check_due(shop)
    assert running(shop)["resolution"].breached_at == at(31, 10, 51)


def test_a_snooze_pauses_resolution_to_its_end_but_the_first_response_keeps_running(
    db: Engine, retail_copy: tuple[Path, str]
) -> None:
    shop = shop_with(db, retail_copy)
    shop.customer_says(CUSTOMER, "Bei ya fridge?")
    first = running(shop)["first_response"]
    shop.clock.set(at(24, 10, 5))
    snooze_until(shop, at(28, 9))
    clocks = running(shop)
    # The default rule: a snoozed conversation still owes its first answer on time.
    assert (clocks["first_response"].paused_at, clocks["first_response"].due_at) == (
        None,
        at(24, 10, 30),
    )
    # Resolution pauses until the snooze's end: 8h25 on Thursday and 30 minutes on
    # Monday morning; Tuesday 10:00 plus 8h55 of opening time is Wednesday 30, 08:55.
    resolution = clocks["resolution"]
    assert (resolution.paused_at, resolution.paused_until) == (at(24, 10, 5), at(28, 9))
    assert resolution.due_at == at(30, 8, 55)

    shop.clock.set(at(24, 10, 31))
    assert first.id in check_due(shop)
    assert running(shop)["first_response"].breached_at == at(24, 10, 31)

    # No event marks the snooze's end: the clock runs again by itself, to its moved deadline.
    shop.clock.set(at(29, 10, 1))
    assert resolution.id not in check_due(shop)
    shop.clock.set(at(30, 8, 56))
    assert resolution.id in check_due(shop)
    assert running(shop)["resolution"].breached_at == at(30, 8, 56)


def test_a_policy_can_pause_the_first_response_while_snoozed_and_keep_resolution_running(
    db: Engine, retail_copy: tuple[Path, str]
) -> None:
    shop = shop_with(
        db,
        retail_copy,
        "    pause_when: [snoozed]\n    first_response_when_snoozed: pause\n",
    )
    shop.customer_says(CUSTOMER, "Mnafungua saa ngapi?")
    first = running(shop)["first_response"]
    shop.clock.set(at(24, 10, 5))
    snooze_until(shop, at(24, 14, 5))
    clocks = running(shop)
    assert (clocks["first_response"].paused_until, clocks["first_response"].due_at) == (
        at(24, 14, 5),
        at(24, 14, 30),
    )
    assert clocks["resolution"].due_at == at(29, 14)

    shop.clock.set(at(24, 10, 31))
    assert first.id not in check_due(shop)
    shop.clock.set(at(24, 14, 10))
    reply(shop)
    [met] = shop.rows(SlaClock, SlaClock.id == first.id)
    assert (met.met, met.breached_at) == (True, None)
    # Waiting on the customer does not pause resolution under this policy.
    resolution = running(shop)["resolution"]
    assert (resolution.paused_at, resolution.due_at) == (None, at(29, 14))


def test_a_resolution_past_the_old_deadline_but_inside_the_paused_one_counts_as_met(
    db: Engine, retail_copy: tuple[Path, str]
) -> None:
    shop = shop_with(db, retail_copy)
    shop.customer_says(CUSTOMER, "Delivery ya jana haijafika")
    shop.clock.set(at(24, 10, 10))
    reply(shop)  # waiting on the customer from Christmas Eve 10:10
    shop.clock.set(at(29, 11))
    shop.customer_says(CUSTOMER, "Imefika, asante")  # resolution now due Thursday 31, 10:50
    shop.clock.set(at(29, 11, 5))
    reply(shop)  # the next response is met; the resolution clock pauses again
    shop.clock.set(at(30, 9))
    assert check_due(shop) == []
    # Resolved on Wednesday 30, a day after the deadline the clock had before it paused.
    staff(shop, lambda desk, who, cid, now: set_status(desk, who, cid, "resolved", now))
    [clock] = shop.rows(SlaClock, SlaClock.kind == "resolution")
    assert (clock.met, clock.breached_at, clock.stopped_at) == (True, None, at(30, 9))

    with workspace_session(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        tallies = stored(session)
        assert tallies.rows() == recount(session, shop.workspace_id, rules.graph.calendar).rows()
    by_measure = {
        (key.measure, key.clock): count
        for (key, part), count in tallies.items()
        if part == "count" and key.policy == "standard"
    }
    assert by_measure[(SLA_MET, "resolution")] == 1
    assert (SLA_MISSED, "resolution") not in by_measure
    assert (SLA_BREACHED, "resolution") not in by_measure
