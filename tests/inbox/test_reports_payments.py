"""The reports page's payments section: requested -> confirmed, from the payments record.

Payments are written directly with known states and times; the retail workspace is in
Nairobi (UTC+3), so a payment requested at 22:30 UTC belongs to the next local day.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.models import Payment
from tests.inbox.test_reports_page import WED_1000, _conversation
from tests.inbox.web import Web

PERIOD = "start=2026-11-01&end=2026-11-30"


def _payment(
    session: Session,
    *,
    at: datetime,
    state: str,
    amount: str | None,
    paid: str | None = None,
    conversation: int | None = None,
    source: str = "stk",
) -> None:
    session.add(
        Payment(
            provider="mpesa",
            integration="mpesa",
            source=source,
            conversation_id=conversation,
            amount=Decimal(amount) if amount else None,
            paid_amount=Decimal(paid) if paid else None,
            currency="KES",
            state=state,
            requested_at=at,
        )
    )


@pytest.fixture()
def paying(web: Web) -> Web:
    people = web.world.people
    with unit_of_work(web.runtime.db, web.world.workspace_id) as session:
        agents = _conversation(
            session,
            opened=WED_1000,
            reply_after=timedelta(minutes=5),
            resolved_after=None,
            owner=people["agent"],
        )
        managers = _conversation(
            session,
            opened=WED_1000,
            reply_after=timedelta(minutes=5),
            resolved_after=None,
            owner=people["manager"],
            number="+254711999999",
        )
        day = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
        _payment(session, at=day, state="paid", amount="1000", paid="1000", conversation=agents)
        _payment(session, at=day, state="cancelled", amount="500", conversation=managers)
        _payment(session, at=day, state="pending", amount="200", conversation=agents)
        # 01:30 on 1 November in Nairobi: inside the period.
        _payment(
            session,
            at=datetime(2026, 10, 31, 22, 30, tzinfo=UTC),
            state="paid",
            amount="300",
            paid="300",
            conversation=managers,
        )
        # 00:30 on 1 December in Nairobi: outside it.
        _payment(
            session,
            at=datetime(2026, 11, 30, 21, 30, tzinfo=UTC),
            state="paid",
            amount="999",
            paid="999",
            conversation=agents,
        )
        # A customer paid the till without being asked.
        _payment(session, at=day, state="paid", amount=None, paid="750", source="c2b")
    web.sign_in("manager")
    return web


def _rows(web: Web, query: str = "") -> dict[str, dict[str, str]]:
    answer = web.client.get(f"/reports/payments.csv?{PERIOD}{query}")
    assert answer.status_code == 200, answer.text
    return {row["source"].split(" (")[0]: row for row in csv.DictReader(io.StringIO(answer.text))}


def test_payments_requested_and_confirmed_by_local_day(paying: Web) -> None:
    rows = _rows(paying)
    stk = rows["Payment requests"]
    assert (stk["requested"], stk["confirmed"], stk["confirmed_pct"]) == ("4", "2", "50.0")
    assert (stk["failed"], stk["still_open"]) == ("1", "1")
    assert (stk["amount_requested"], stk["amount_confirmed"]) == ("2000.00", "1300.00")
    c2b = rows["Paid to the till unasked"]
    assert (c2b["requested"], c2b["confirmed"], c2b["amount_confirmed"]) == ("1", "1", "750.00")


def test_payments_follow_the_teammate_and_number_filters(paying: Web) -> None:
    agent = paying.world.people["agent"]
    rows = _rows(paying, f"&teammate={agent}")
    assert list(rows) == ["Payment requests"]  # the unasked till payment has no conversation
    stk = rows["Payment requests"]
    assert (stk["requested"], stk["confirmed"], stk["still_open"]) == ("2", "1", "1")
    assert stk["amount_confirmed"] == "1000.00"
    stk = _rows(paying, "&number=%2B254711999999")["Payment requests"]
    assert (stk["requested"], stk["confirmed"], stk["failed"]) == ("2", "1", "1")


def test_the_page_shows_the_payments_chart(paying: Web) -> None:
    page = paying.client.get(f"/reports?{PERIOD}")
    assert page.status_code == 200
    assert "Payments requested → confirmed" in page.text
    assert page.text.count('src="data:image/svg+xml;base64,') == 5
    assert "/reports/payments.csv?start=2026-11-01&amp;end=2026-11-30" in page.text
