"""j / k from a conversation page: the neighbour in the queue the agent came from."""

from __future__ import annotations

from datetime import timedelta

from engine.db import workspace_session
from engine.inbox.navigation import neighbour_in_queue
from engine.inbox.queues import Queue
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def test_next_and_previous_follow_the_queue_order(web: Web) -> None:
    world = web.world
    oldest = world.conversation("Oldest", last_at=NOW - timedelta(hours=3))
    middle = world.conversation("Middle", last_at=NOW - timedelta(hours=2))
    newest = world.conversation("Newest", last_at=NOW - timedelta(hours=1))
    world.conversation("Someone else's", last_at=NOW - timedelta(minutes=90), owner="other")
    web.sign_in("agent")

    def go(conversation: int, query: str) -> str:
        answer = web.client.get(f"/inbox/c/{conversation}/next?{query}", follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        return str(answer.headers["location"])

    assert go(oldest, "queue=unassigned") == f"/inbox/c/{middle}?queue=unassigned"
    assert go(middle, "queue=unassigned") == f"/inbox/c/{newest}?queue=unassigned"
    assert go(newest, "queue=unassigned") == "/inbox?queue=unassigned"
    assert go(newest, "queue=unassigned&back=true") == f"/inbox/c/{middle}?queue=unassigned"
    assert go(oldest, "queue=unassigned&back=true") == "/inbox?queue=unassigned"
    assert go(oldest, "queue=nonsense") == "/inbox?queue=mine"  # unknown queue: mine

    # Claimed, it leaves "unassigned"; j still goes on from where it was.
    web.post(f"/inbox/c/{middle}/claim")
    assert go(middle, "queue=unassigned") == f"/inbox/c/{newest}?queue=unassigned"


def test_resolved_runs_newest_first(web: Web) -> None:
    world = web.world
    older = world.conversation("Older", status="resolved", last_at=NOW - timedelta(days=2))
    newer = world.conversation("Newer", status="resolved", last_at=NOW - timedelta(days=1))
    with workspace_session(world.db, world.workspace_id) as session:
        principal = world.principal("agent")
        assert neighbour_in_queue(session, principal, Queue.RESOLVED, newer, NOW) == older
        assert neighbour_in_queue(session, principal, Queue.RESOLVED, older, NOW) is None
        assert (
            neighbour_in_queue(session, principal, Queue.RESOLVED, older, NOW, backwards=True)
            == newer
        )
