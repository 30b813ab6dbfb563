"""Presence: who else has a conversation open or is typing, decided by the clock."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest

from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import NotFound
from engine.inbox.presence import (
    TYPING_LASTS,
    VIEWING_LASTS,
    Activity,
    presence_from,
    presence_in,
    report_presence,
)
from engine.models import Presence
from tests.inbox.seed import NOW, World, make_world
from tests.inbox.web import Web
from ui.routes import live


def test_viewing_and_typing_lapse_by_the_clock_alone() -> None:
    rows = [
        (1, "Amina", NOW - timedelta(seconds=10), NOW - timedelta(seconds=2)),
        (2, "Baraka", NOW - timedelta(seconds=30), None),
        (3, "Chebet", NOW - VIEWING_LASTS, None),  # three beats missed: gone
        (4, "Dan", NOW - timedelta(seconds=5), NOW - TYPING_LASTS),  # stopped typing
    ]
    view = presence_from(rows, NOW)
    assert [(p.name, p.typing) for p in view.people] == [
        ("Amina", True),
        ("Baraka", False),
        ("Dan", False),
    ]
    # Amina's typing lapses first, 4 s from now.
    assert view.changes_at == NOW + timedelta(seconds=4)
    assert view.describe() == "Amina is typing a reply; Baraka and Dan have it open"
    assert presence_from([], NOW).describe() == ""
    assert presence_from([], NOW).changes_at is None


def test_reports_keep_one_row_per_teammate_and_others_see_it(world: World) -> None:
    conversation = world.conversation("Present")
    agent, other = world.principal("agent"), world.principal("other")
    for activity, at in [
        (Activity.VIEWING, NOW),
        (Activity.VIEWING, NOW + timedelta(seconds=1)),  # a second tab
        (Activity.TYPING, NOW + timedelta(seconds=2)),
    ]:
        with unit_of_work(world.db, world.workspace_id) as session:
            report_presence(session, other, conversation, activity, at)
    with workspace_session(world.db, world.workspace_id) as session:
        assert session.query(Presence).filter_by(conversation_id=conversation).count() == 1
        seen = presence_in(session, agent, conversation, NOW + timedelta(seconds=3))
        assert [(p.name, p.typing) for p in seen.people] == [("Other", True)]
        # One's own presence is not news to oneself.
        assert presence_in(session, other, conversation, NOW + timedelta(seconds=3)).people == ()
        later = presence_in(session, agent, conversation, NOW + timedelta(seconds=20))
        assert [(p.name, p.typing) for p in later.people] == [("Other", False)]
    with unit_of_work(world.db, world.workspace_id) as session:
        report_presence(session, other, conversation, Activity.LEFT, NOW + timedelta(seconds=4))
    with workspace_session(world.db, world.workspace_id) as session:
        assert presence_in(session, agent, conversation, NOW + timedelta(seconds=5)).people == ()


def test_presence_in_another_workspace_is_not_found(world: World) -> None:
    theirs = make_world(world.db).conversation("Theirs")
    with pytest.raises(NotFound), unit_of_work(world.db, world.workspace_id) as session:
        report_presence(session, world.principal("agent"), theirs, Activity.TYPING, NOW)


def test_the_page_reports_presence_and_the_stream_tells_colleagues(
    web: Web, web2: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(live, "MIN_GAP_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_LIFETIME_SECONDS", 3.0)
    conversation = web.world.conversation("Typing")
    web.sign_in("agent")
    web2.sign_in("other")
    page = web.client.get(f"/inbox/c/{conversation}")
    assert f'data-presence="/inbox/c/{conversation}/presence"' in page.text
    received: list[str] = []

    def listen() -> None:
        with web.client.stream("GET", f"/inbox/live?conversation={conversation}") as response:
            for line in response.iter_lines():
                received.append(line)
                if "typing a reply" in line:
                    return

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.3)
    refused = web2.client.post(f"/inbox/c/{conversation}/presence", data={"activity": "typing"})
    assert refused.status_code == 403, "a heartbeat without the CSRF header is refused"
    accepted = web2.post(f"/inbox/c/{conversation}/presence", {"activity": "typing"})
    assert accepted.status_code == 204
    listener.join(timeout=10)
    presence = [json.loads(line[len("data: ") :]) for line in received if '"typing"' in line]
    assert presence and presence[-1]["typing"] == ["Other"]
    bad = web2.post(f"/inbox/c/{conversation}/presence", {"activity": "dancing"})
    assert bad.status_code == 400
