"""SLA clocks on real conversations: started by messages, met by replies, breaches acted on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.db import workspace_session
from engine.jobs.names import CHECK_SLA_CLOCK
from engine.models import AuditLog, Conversation, Message, Notification, SlaClock, Task
from engine.sla.clocks import check_clock
from tests.automation.test_inbound_rules import Shop
from tests.sweeping import swept

# Saturday 28 November 2026, 16:50 in Nairobi: the shop closes at 17:00.
SATURDAY_1650 = datetime(2026, 11, 28, 13, 50, tzinfo=UTC)
MONDAY_0850 = datetime(2026, 11, 30, 5, 50, tzinfo=UTC)


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    shop = Shop(db, *retail_copy)
    shop.clock.set(SATURDAY_1650)
    return shop


def check_due(shop: Shop) -> list[int]:
    mine = {c.id for c in shop.rows(SlaClock)}
    ids = swept(shop.db, shop.clock.now(), CHECK_SLA_CLOCK, "clock_id", mine)
    for clock_id in ids:
        check_clock(clock_id=clock_id, db=shop.db, clock=shop.clock, configs=shop.configs)
    return ids


def clocks(shop: Shop) -> dict[str, SlaClock]:
    return {c.kind: c for c in shop.rows(SlaClock, SlaClock.stopped_at.is_(None))}


def test_a_late_saturday_message_is_due_monday_and_its_breach_escalates(shop: Shop) -> None:
    shop.customer_says("254722300001", "Do you have the Hisense 43 inch in stock?")
    first = clocks(shop)["first_response"]
    # Standard policy: 30 business minutes; ten on Saturday, twenty from 08:30 on Monday.
    assert (first.policy, first.due_at) == ("standard", MONDAY_0850)
    assert first.warn_at == MONDAY_0850 - timedelta(minutes=10)
    [conversation] = shop.rows(Conversation)
    assert conversation.first_response_due_at == MONDAY_0850

    shop.clock.set(MONDAY_0850 - timedelta(minutes=10))
    assert check_due(shop) == [first.id]
    assert clocks(shop)["first_response"].warned_at == shop.clock.now()
    assert check_due(shop) == []  # a warning is reported once

    shop.clock.set(MONDAY_0850 + timedelta(seconds=1))
    assert check_due(shop) == [first.id]
    assert clocks(shop)["first_response"].breached_at == shop.clock.now()
    [conversation] = shop.rows(Conversation)
    assert conversation.priority == "urgent"
    escalations = [a for a in shop.rows(AuditLog) if a.action == "escalate"]
    assert [a.actor_name for a in escalations] == ["A missed SLA goes to the manager"]
    [task] = [t for t in shop.rows(Task) if t.title.startswith("Escalated")]
    assert task.assignee_id is not None
    # Wanjiru hears of it in the app twice: the escalation, and the rule's own notice.
    alerts = shop.rows(Notification, Notification.teammate_id == task.assignee_id)
    assert [n.source for n in alerts] == ["A missed SLA goes to the manager"] * 2
    assert any("waited past the standard response time" in n.text for n in alerts)
    shop.clock.advance(timedelta(minutes=5))
    assert check_due(shop) == []  # a breach is reported once


def test_a_reply_in_time_meets_the_clock_and_nothing_is_reported(shop: Shop) -> None:
    shop.customer_says("254722300002", "Mnauza blender?")
    first = clocks(shop)["first_response"]
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="outbound",
                type="text",
                body="Ndiyo, tunazo. KES 4,500.",
                author_kind="teammate",
                delivery_state="sent",
                provider_timestamp=SATURDAY_1650 + timedelta(minutes=5),
            )
        )
        session.scalars(select(Conversation)).one().waiting_on = "customer"
        session.commit()
    shop.clock.set(MONDAY_0850 + timedelta(minutes=1))
    check_due(shop)
    [stopped] = shop.rows(SlaClock, SlaClock.id == first.id)
    assert (stopped.met, stopped.breached_at) == (True, None)
    assert [a for a in shop.rows(AuditLog) if a.action == "escalate"] == []
