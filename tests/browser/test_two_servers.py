"""Live updates across server processes: a page streaming from one server hears about a
change made through another (the markers live in the database, not in a process)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine

from engine.auth import Role, create_api_token
from tests.browser.conftest import Server, running_server
from tests.inbox.seed import NOW, PASSWORD, World, make_world
from tests.reliability.processes import RedisServer


def signed_in_client(server: Server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    page = client.get(f"/login?workspace={server.world.slug}")
    token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={
            "workspace": server.world.slug,
            "login": "agent",
            "password": PASSWORD,
            "_csrf_token": token,
        },
    )
    assert response.status_code == 303
    return client


def a_note_through_one_server_reaches_a_stream_on_the_other(
    db: Engine, world: World, conversation: int, first: Server, second: Server
) -> None:
    viewer = signed_in_client(first)
    events: list[str] = []
    connected = threading.Event()

    def listen() -> None:
        url = f"/inbox/live?conversation={conversation}"
        with viewer.stream("GET", url, timeout=20) as stream:
            for line in stream.iter_lines():
                if line == "event: ready":
                    connected.set()
                events.append(line)
                if line == "event: changed":
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10), "the stream did not open"
    token = create_api_token(
        db, workspace_id=world.workspace_id, role=Role.MANAGER, label="two servers", now=NOW
    )
    note = httpx.post(
        f"{second.url}/api/v1/conversations/{conversation}/notes",
        json={"body": "written through the other server"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert note.status_code == 201
    started = time.monotonic()
    listener.join(timeout=15)
    assert "event: changed" in events, events
    assert time.monotonic() - started < 10
    viewer.close()


def test_a_stream_on_one_server_hears_a_change_made_through_another(
    db: Engine, database_url: str, redis_url: str | None, tmp_path: Path, repo_root: Path
) -> None:
    world = make_world(db)
    conversation = world.conversation("Two servers")
    with (
        running_server(world, database_url, redis_url, tmp_path, repo_root) as first,
        running_server(world, database_url, redis_url, tmp_path, repo_root) as second,
    ):
        a_note_through_one_server_reaches_a_stream_on_the_other(
            db, world, conversation, first, second
        )


def test_live_updates_keep_flowing_across_two_servers_after_redis_restarts(
    db: Engine, database_url: str, tmp_path: Path, repo_root: Path
) -> None:
    """Live updates travel through the database (NOTIFY, or polling on SQLite), never
    through Redis: losing Redis and getting it back leaves the streams working."""
    world = make_world(db)
    conversation = world.conversation("Redis restarts")
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        with (
            running_server(world, database_url, redis.url, tmp_path, repo_root) as first,
            running_server(world, database_url, redis.url, tmp_path, repo_root) as second,
        ):
            redis.stop()
            redis.start()
            a_note_through_one_server_reaches_a_stream_on_the_other(
                db, world, conversation, first, second
            )
    finally:
        redis.stop()
