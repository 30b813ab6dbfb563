"""A paused SLA clock reads as paused on the conversation page and in the manager's view."""

from __future__ import annotations

from datetime import timedelta

from engine.db import workspace_session
from engine.models import Conversation, SlaClock
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def add_clock(web: Web, conversation: int, kind: str, **values: object) -> None:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        session.add(
            SlaClock(
                conversation_id=conversation,
                kind=kind,
                policy="standard",
                started_at=NOW - timedelta(hours=3),
                due_at=NOW - timedelta(hours=1),
                warn_at=None,
                **values,
            )
        )
        row = session.get(Conversation, conversation)
        assert row is not None
        setattr(row, f"{kind}_due_at", NOW - timedelta(hours=1))
        session.commit()


def test_waiting_on_the_customer_shows_the_resolution_clock_paused(web: Web) -> None:
    waiting = web.world.conversation("Akinyi", status="waiting_on_customer")
    add_clock(web, waiting, "resolution", paused_at=NOW - timedelta(hours=2))
    running = web.world.conversation("Baraka", status="waiting_on_customer")
    add_clock(web, running, "resolution")
    web.sign_in("manager")

    page = web.client.get(f"/inbox/c/{waiting}")
    assert page.status_code == 200
    assert "<strong>paused</strong> since" in page.text
    assert "the deadline moves on when it resumes" in page.text
    assert "<strong>late</strong>" not in page.text
    other = web.client.get(f"/inbox/c/{running}")
    assert "<strong>paused</strong>" not in other.text

    manager = web.client.get("/manager")
    assert manager.text.count("resolution clock paused") == 1
    assert manager.text.count("<strong>paused</strong> since") == 1


def test_a_snooze_that_ran_out_no_longer_shows_a_paused_clock(web: Web) -> None:
    snoozed = web.world.conversation("Chebet", status="snoozed")
    add_clock(
        web,
        snoozed,
        "first_response",
        paused_at=NOW - timedelta(hours=2),
        paused_until=web.clock.now() + timedelta(hours=1),
    )
    ran_out = web.world.conversation("Daudi", status="snoozed")
    add_clock(
        web,
        ran_out,
        "first_response",
        paused_at=NOW - timedelta(hours=2),
        paused_until=web.clock.now() - timedelta(minutes=1),
    )
    web.sign_in("manager")
    page = web.client.get(f"/inbox/c/{snoozed}")
    assert "<strong>paused</strong> since" in page.text and "runs again" in page.text
    assert "<strong>paused</strong>" not in web.client.get(f"/inbox/c/{ran_out}").text
    manager = web.client.get("/manager")
    assert manager.text.count("first response paused") == 1
