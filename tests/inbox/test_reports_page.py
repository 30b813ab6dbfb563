"""The reports page: hand-computed figures, filters, CSV exports, and who may see it.

The record is written directly (three conversations with known times), then the
tallies are rebuilt from it, so every number below is worked out by hand: durations
are business hours on the retail calendar (Mon-Fri 08:30-18:30 Nairobi).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from engine.automation.runner import rules_in_force
from engine.conversations.tallies import rebuild
from engine.db import unit_of_work
from engine.models import AuthorKind, Contact, Conversation, Direction, Message
from tests.inbox.web import Web

WED_1000 = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 10:00 in Nairobi, a Wednesday
TUE_1730 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # an hour before closing
OCTOBER = datetime(2026, 10, 14, 7, 0, tzinfo=UTC)  # in the 30 days before the period


def _conversation(
    session: Session,
    *,
    opened: datetime,
    reply_after: timedelta,
    resolved_after: timedelta | None,
    owner: int,
    number: str = "+254711502300",
) -> int:
    """A conversation with a customer message, a teammate's reply and maybe a resolution."""
    contact = Contact(profile_name="Customer")
    session.add(contact)
    session.flush()
    conversation = Conversation(
        contact_id=contact.id,
        business_number=number,
        status="resolved" if resolved_after else "open",
        owner_id=owner,
        opened_at=opened,
        resolved_at=opened + resolved_after if resolved_after else None,
    )
    session.add(conversation)
    session.flush()
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            type="text",
            body="Habari",
            author_kind=AuthorKind.CONTACT,
            author_contact_id=contact.id,
            provider_timestamp=opened,
        )
    )
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            type="text",
            body="Karibu",
            author_kind=AuthorKind.TEAMMATE,
            author_teammate_id=owner,
            provider_timestamp=opened + reply_after,
        )
    )
    return conversation.id


@pytest.fixture()
def reports(web: Web) -> Web:
    people = web.world.people
    with unit_of_work(web.runtime.db, web.world.workspace_id) as session:
        _conversation(
            session,
            opened=WED_1000,
            reply_after=timedelta(minutes=30),
            resolved_after=timedelta(hours=2),
            owner=people["manager"],
        )
        _conversation(
            session,
            opened=WED_1000,
            reply_after=timedelta(hours=1),
            resolved_after=timedelta(hours=4),
            owner=people["agent"],
        )
        # Tue 17:30 -> Wed 09:30: 16 hours on the clock, 2 business hours.
        _conversation(
            session,
            opened=TUE_1730,
            reply_after=timedelta(hours=16),
            resolved_after=None,
            owner=people["agent"],
            number="+254711999999",
        )
        # The previous 30 days: a 2-hour first response and an 8-hour resolution.
        _conversation(
            session,
            opened=OCTOBER,
            reply_after=timedelta(hours=2),
            resolved_after=timedelta(hours=8),
            owner=people["agent"],
        )
        rules = rules_in_force(session, web.runtime.configs, web.world.workspace_id)
        assert rules is not None
        rebuild(session, web.world.workspace_id, rules.graph.calendar)
    web.sign_in("manager")
    return web


def _csv(web: Web, section: str, query: str = "") -> list[dict[str, str]]:
    answer = web.client.get(f"/reports/{section}.csv?start=2026-10-27&end=2026-11-25{query}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


def _near(value: str, hours: float) -> bool:
    return abs(float(value) - hours) <= hours * 0.05


def test_durations_are_business_hours_with_a_trend(reports: Web) -> None:
    first, resolution = _csv(reports, "durations")
    # First responses 0.5 h, 1 h and 2 h (the overnight one): median 1 h, p90 2 h.
    assert (first["measure"], first["count"]) == ("first response", "3")
    assert _near(first["median_h"], 1.0) and _near(first["p90_h"], 2.0)
    # Resolutions 2 h and 4 h: nearest-rank median 2 h, p90 4 h; the month before, 8 h.
    assert (resolution["measure"], resolution["count"]) == ("resolution", "2")
    assert _near(resolution["median_h"], 2.0) and _near(resolution["p90_h"], 4.0)
    assert _near(resolution["previous_median_h"], 8.0)
    assert resolution["median_change"] == "-75%"


def test_filters_narrow_every_figure(reports: Web) -> None:
    agent = reports.world.people["agent"]
    first, resolution = _csv(reports, "durations", f"&teammate={agent}")
    assert (first["count"], resolution["count"]) == ("2", "1")
    first, _ = _csv(reports, "durations", "&number=%2B254711999999")
    assert first["count"] == "1" and _near(first["median_h"], 2.0)
    people = {row["teammate"]: row for row in _csv(reports, "teammates")}
    assert people["Agent"]["handled"] == "1"
    assert people["Agent"]["open_load"] == "1"
    assert people["Manager"]["handled"] == "1"
    assert _near(people["Manager"]["first_response_median_h"], 0.5)


def test_the_heatmap_counts_messages_by_local_hour(reports: Web) -> None:
    rows = {row["weekday"]: row for row in _csv(reports, "heatmap")}
    # Wednesday, Nairobi time: two customers at 10:00 and a reply at 10:30; a reply at
    # 11:00; the overnight reply at 09:30. Tuesday: the 17:30 message.
    assert (rows["Wed"]["10"], rows["Wed"]["11"], rows["Wed"]["9"]) == ("3", "1", "1")
    assert rows["Tue"]["17"] == "1"
    assert sum(int(v) for row in rows.values() for k, v in row.items() if k != "weekday") == 6


def test_the_page_draws_every_chart(reports: Web) -> None:
    page = reports.client.get("/reports?start=2026-10-27&end=2026-11-25")
    assert page.status_code == 200
    assert page.text.count('src="data:image/svg+xml;base64,') == 4
    for section in (
        "durations",
        "sla",
        "funnel",
        "heatmap",
        "teammates",
        "automations",
        "payments",
    ):
        assert f"/reports/{section}.csv?start=2026-10-27" in page.text
    assert "-75%" in page.text


def test_a_bad_period_is_refused_clearly(reports: Web) -> None:
    answer = reports.client.get("/reports?start=yesterday")
    assert answer.status_code == 400
    assert "a date like" in answer.text
    assert reports.client.get("/reports/everything.csv").status_code == 404


def test_an_agent_is_refused(web: Web) -> None:
    web.sign_in("agent")
    assert web.client.get("/reports").status_code == 403
    assert web.client.get("/reports/durations.csv").status_code == 403
