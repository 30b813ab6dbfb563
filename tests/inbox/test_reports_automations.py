"""The reports page's automation section: rule-sent messages and the customers who
answered them within 24 hours, worked out by hand from messages written directly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.models import AuthorKind, Conversation, Direction, Message
from tests.inbox.test_reports_page import WED_1000, _conversation
from tests.inbox.web import Web

PERIOD = "start=2026-11-01&end=2026-11-30"
DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _say(session: Session, conversation_id: int, at: datetime, rule: str | None = None) -> None:
    """A rule's message to the customer (rule given), or the customer's own message."""
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    session.add(
        Message(
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND if rule else Direction.INBOUND,
            type="text",
            body="Still interested?" if rule else "Yes please",
            author_kind=AuthorKind.RULE if rule else AuthorKind.CONTACT,
            author_rule=rule,
            author_contact_id=None if rule else conversation.contact_id,
            provider_timestamp=at,
        )
    )


@pytest.fixture()
def nudged(web: Web) -> Web:
    people = web.world.people
    with unit_of_work(web.runtime.db, web.world.workspace_id) as session:

        def conversation(owner: str, number: str = "+254711502300") -> int:
            return _conversation(
                session,
                opened=WED_1000,
                reply_after=timedelta(minutes=5),
                resolved_after=None,
                owner=people[owner],
                number=number,
            )

        agents, managers = conversation("agent"), conversation("manager", "+254711999999")
        _say(session, agents, DAY, "Quote reminder")
        _say(session, agents, DAY + timedelta(hours=3))  # answered after 3 hours
        _say(session, managers, DAY + timedelta(days=1), "Quote reminder")
        _say(session, managers, DAY + timedelta(days=2, hours=1))  # 25 hours: too late
        _say(session, agents, DAY + timedelta(days=2), "Payment nudge")  # never answered
        # 00:30 on 1 December in Nairobi: outside the period.
        _say(session, agents, datetime(2026, 11, 30, 21, 30, tzinfo=UTC), "Quote reminder")
    web.sign_in("manager")
    return web


def _rows(web: Web, query: str = "") -> dict[str, dict[str, str]]:
    answer = web.client.get(f"/reports/automations.csv?{PERIOD}{query}")
    assert answer.status_code == 200, answer.text
    return {row["rule"]: row for row in csv.DictReader(io.StringIO(answer.text))}


def test_rule_messages_and_the_customers_who_answered_within_a_day(nudged: Web) -> None:
    rows = _rows(nudged)
    assert list(rows) == ["Payment nudge", "Quote reminder"]
    quote = rows["Quote reminder"]
    assert (quote["sent"], quote["replied"], quote["replied_pct"]) == ("2", "1", "50.0")
    assert quote["median_reply_h"] == "3.0"
    nudge = rows["Payment nudge"]
    assert (nudge["sent"], nudge["replied"], nudge["replied_pct"], nudge["median_reply_h"]) == (
        "1",
        "0",
        "0.0",
        "",
    )


def test_the_section_follows_the_filters_and_is_drawn(nudged: Web) -> None:
    agent = nudged.world.people["agent"]
    quote = _rows(nudged, f"&teammate={agent}")["Quote reminder"]
    assert (quote["sent"], quote["replied"]) == ("1", "1")
    assert list(_rows(nudged, "&number=%2B254711999999")) == ["Quote reminder"]
    page = nudged.client.get(f"/reports?{PERIOD}")
    assert "Did the automations bring anyone back?" in page.text
    assert page.text.count('src="data:image/svg+xml;base64,') == 5
