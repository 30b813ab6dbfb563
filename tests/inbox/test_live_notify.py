"""PostgreSQL's NOTIFY carries committed changes to every server process's live pages.

Only defined on PostgreSQL: SQLite has no NOTIFY and its pages poll (test_live.py
covers that path on both databases).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from engine.db import unit_of_work
from engine.db.change_feed import CHANNEL
from engine.inbox.ownership import claim
from engine.inbox.work import add_note
from tests.conftest import BACKEND
from tests.inbox.seed import NOW, World, desk
from tests.inbox.web import Web
from ui.routes import live

if BACKEND == "postgres":

    def _listener(db: Engine) -> psycopg.Connection[object]:
        url = make_url(db.url).set(drivername="postgresql").render_as_string(False)
        connection = psycopg.connect(url, autocommit=True)
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    def _heard(connection: psycopg.Connection[object]) -> set[str]:
        return {n.payload for n in connection.notifies(timeout=0.5)}

    def test_only_committed_changes_are_announced_with_their_conversation(world: World) -> None:
        conversation = world.conversation("Announced")
        ears = _listener(world.db)
        try:
            _heard(ears)  # what the seeding said
            with pytest.raises(RuntimeError), unit_of_work(world.db, world.workspace_id) as s:
                add_note(desk(s), world.principal("agent"), conversation, "never committed", NOW)
                raise RuntimeError("roll back")
            assert _heard(ears) == set()
            with unit_of_work(world.db, world.workspace_id) as session:
                add_note(desk(session), world.principal("agent"), conversation, "committed", NOW)
            assert _heard(ears) == {f"{world.workspace_id}:{conversation}:c"}
            # A claim is a bulk UPDATE (compare-and-swap), not a flush: still announced.
            with unit_of_work(world.db, world.workspace_id) as session:
                claim(desk(session), world.principal("agent"), conversation, NOW)
            assert f"{world.workspace_id}:{conversation}:c" in _heard(ears)
        finally:
            ears.close()

    def test_a_stream_wakes_on_notify_and_again_after_its_connection_is_killed(
        web: Web, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Polling is slowed to a crawl, so only a notification can wake the stream in time.
        monkeypatch.setattr(live, "POLL_SECONDS", 60.0)
        monkeypatch.setattr(live, "RECHECK_SECONDS", 60.0)
        monkeypatch.setattr(live, "MIN_GAP_SECONDS", 0.05)
        # The test client hands over a stream's lines when it ends, so streams are short.
        monkeypatch.setattr(live, "STREAM_LIFETIME_SECONDS", 3.0)
        conversation = web.world.conversation("Woken")
        web.sign_in("agent")
        hub = web.client.app.state.live_hub

        def wait_until(condition: Callable[[], bool]) -> bool:
            deadline = time.monotonic() + 10
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.05)
            return condition()

        def stream_while_a_note_is_added(text: str) -> list[str]:
            lines: list[str] = []

            def listen() -> None:
                url = f"/inbox/live?conversation={conversation}"
                with web.client.stream("GET", url, timeout=30) as response:
                    lines.extend(response.iter_lines())

            listener = threading.Thread(target=listen)
            listener.start()
            time.sleep(1.0)
            with unit_of_work(web.world.db, web.world.workspace_id) as session:
                add_note(desk(session), web.world.principal("other"), conversation, text, NOW)
            listener.join(timeout=15)
            return lines

        assert wait_until(lambda: hub.connected), "the server never started listening"
        assert "event: changed" in stream_while_a_note_is_added("first")

        # The listening connection dies (a database restart, a network blip).
        with web.world.db.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'kazi-live' AND datname = current_database()"
            )
        assert wait_until(lambda: not hub.connected), "the server did not notice"
        assert wait_until(lambda: hub.connected), "the server did not listen again"
        assert "event: changed" in stream_while_a_note_is_added("second")
