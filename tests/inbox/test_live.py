"""Live updates: markers move when the page would change; the event stream says so."""

from __future__ import annotations

import threading
import time

import pytest

from engine.db import unit_of_work, workspace_session
from engine.inbox.live import conversation_marker, queue_marker
from engine.inbox.ownership import claim
from engine.inbox.replies import reply_text
from engine.inbox.work import add_note, add_tag
from engine.models import Message
from tests.inbox.seed import NOW, World, desk, make_world
from tests.inbox.web import Web
from ui.routes import live


def markers(world: World, conversation: int) -> tuple[str, str]:
    with workspace_session(world.db, world.workspace_id) as session:
        principal = world.principal("agent")
        return (
            queue_marker(session, principal, NOW),
            conversation_marker(session, principal, conversation),
        )


def test_markers_move_with_every_visible_change(world: World) -> None:
    conversation = world.conversation("Live")
    seen = {markers(world, conversation)}
    principal = world.principal("agent")
    steps = [
        lambda s: claim(desk(s), principal, conversation, NOW),
        lambda s: add_note(desk(s), principal, conversation, "note", NOW),
        lambda s: add_tag(desk(s), principal, conversation, "vip", NOW),
        lambda s: reply_text(desk(s), principal, conversation, "hi", now=NOW),
        lambda s: setattr(
            s.get(Message, s.query(Message.id).order_by(Message.id.desc()).first()[0]),
            "delivery_state",
            "delivered",
        ),
    ]
    for step in steps:
        with unit_of_work(world.db, world.workspace_id) as session:
            step(session)
        now = markers(world, conversation)
        assert now[1] not in {m[1] for m in seen}, "the conversation marker did not move"
        seen.add(now)
    # Another workspace's activity moves nothing here.
    make_world(world.db).conversation("Elsewhere")
    assert markers(world, conversation) in seen


def test_the_stream_says_changed_when_someone_else_acts(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(live, "MIN_GAP_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_LIFETIME_SECONDS", 1.5)
    conversation = web.world.conversation("Streamed")
    web.sign_in("agent")
    received: list[str] = []

    def listen() -> None:
        with web.client.stream("GET", f"/inbox/live?conversation={conversation}") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            received.extend(response.iter_lines())

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.4)
    with unit_of_work(web.world.db, web.world.workspace_id) as session:
        add_note(desk(session), web.world.principal("other"), conversation, "from elsewhere", NOW)
    listener.join(timeout=10)
    assert "event: ready" in received
    assert received.count("event: changed") == 1


def test_the_stream_is_404_for_another_workspace_and_needs_a_session(web: Web) -> None:
    theirs = make_world(web.world.db).conversation("Theirs")
    assert web.client.get("/inbox/live", follow_redirects=False).status_code in (302, 303, 307)
    web.sign_in("agent")
    assert web.client.get(f"/inbox/live?conversation={theirs}").status_code == 404
