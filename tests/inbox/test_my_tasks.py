"""My tasks: the signed-in teammate's open tasks across conversations, overdue and due
today (in the workspace's day) first, with links; in the header; and in the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from engine.auth import Role
from engine.db import workspace_session
from engine.inbox.my_tasks import When, my_tasks, tasks_of
from engine.models import Task
from tests.inbox.seed import NOW, World
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

# NOW is 12:00 in Nairobi; its day ends at 21:00 UTC.


def _task(
    world: World,
    conversation: int | None,
    title: str,
    due: datetime | None,
    who: str = "agent",
    done: bool = False,
) -> int:
    with workspace_session(world.db, world.workspace_id) as session:
        task = Task(
            title=title,
            due_at=due,
            assignee_id=world.people[who],
            conversation_id=conversation,
            done_at=NOW if done else None,
            created_at=NOW - timedelta(days=1),
        )
        session.add(task)
        session.commit()
        return task.id


def _seed(world: World) -> dict[str, int]:
    first = world.conversation("Amani Otieno", owner="agent")
    second = world.conversation("Neema Wambui", owner="agent")
    return {
        "undated": _task(world, first, "Check the warranty card", None),
        "tomorrow": _task(world, second, "Deliver the fridge", NOW + timedelta(hours=13)),
        "tonight": _task(world, first, "Send the quote", NOW + timedelta(hours=8)),
        "overdue": _task(world, second, "Call back about M-Pesa", NOW - timedelta(hours=3)),
        "older": _task(world, first, "Chase the deposit", NOW - timedelta(days=2)),
        "done": _task(world, first, "Done already", NOW - timedelta(hours=1), done=True),
        "theirs": _task(world, first, "Someone else's", NOW, who="other"),
    }


def test_open_tasks_come_most_pressing_first(world: World) -> None:
    ids = _seed(world)
    with workspace_session(world.db, world.workspace_id) as session:
        found = my_tasks(session, world.principal("agent"), NOW, "Africa/Nairobi")
    assert [t.id for t in found] == [
        ids["older"],
        ids["overdue"],
        ids["tonight"],
        ids["tomorrow"],
        ids["undated"],
    ]
    assert [t.when for t in found] == [
        When.OVERDUE,
        When.OVERDUE,
        When.TODAY,
        When.LATER,
        When.UNDATED,
    ]
    assert found[1].customer == "Neema Wambui"
    # The fridge is due at 22:00 UTC: tomorrow in Nairobi (01:00), still today in UTC.
    with workspace_session(world.db, world.workspace_id) as session:
        in_utc = tasks_of(session, world.people["agent"], NOW, "UTC")
    assert [t.when for t in in_utc][3] == When.TODAY
    assert {t.id for t in in_utc} == {t.id for t in found}


def test_the_page_lists_them_with_links_and_done_takes_one_off(web: Web) -> None:
    ids = _seed(web.world)
    web.sign_in("agent")
    inbox = web.client.get("/inbox?queue=mine").text
    assert 'href="/tasks"' in inbox  # in the header on every page
    page = web.client.get("/tasks")
    assert page.status_code == 200
    text = page.text
    pressing, later = text.split("<h2>Later")
    assert "Chase the deposit" in pressing and "Send the quote" in pressing
    assert "Deliver the fridge" in later and "Check the warranty card" in later
    assert pressing.index("Chase the deposit") < pressing.index("Call back about M-Pesa")
    assert "Done already" not in text and "Someone else" not in text
    assert "overdue" in pressing and "Neema Wambui" in pressing
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        task = session.get(Task, ids["overdue"])
        assert task is not None
        conversation = task.conversation_id
    assert f'href="/inbox/c/{conversation}"' in pressing
    done = web.post(f"/tasks/{ids['overdue']}/done")
    assert done.status_code == 303 and done.headers["location"] == "/tasks"
    assert "Call back about M-Pesa" not in web.client.get("/tasks").text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert session.scalar(select(Task.done_at).where(Task.id == ids["overdue"])) == NOW


def test_the_api_gives_a_teammates_open_tasks_in_the_same_order(web: Web) -> None:
    ids = _seed(web.world)
    token = bearer(web.world, Role.AGENT)
    agent = web.world.people["agent"]
    body = web.client.get(f"/api/v1/teammates/{agent}/tasks", headers=token).json()
    assert [t["id"] for t in body] == [
        ids["older"],
        ids["overdue"],
        ids["tonight"],
        ids["tomorrow"],
        ids["undated"],
    ]
    assert body[0]["when"] == "overdue" and body[2]["when"] == "today"
    assert body[0]["customer"] == "Amani Otieno"
    missing = web.client.get("/api/v1/teammates/999999/tasks", headers=token)
    assert missing.status_code == 404
