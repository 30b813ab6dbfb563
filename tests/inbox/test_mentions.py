"""@mentions in notes: what counts as one, who is notified, how the page shows them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.auth import Role
from engine.db import unit_of_work, workspace_session
from engine.inbox import work
from engine.inbox.mentions import Piece, mentioned_handles, split_mentions
from engine.inbox.work import add_note
from engine.models import Notification, Teammate
from tests.inbox.seed import NOW, World, desk
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

HANDLES = ("asha", "baraka", "wanjiru")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@asha please call her", ["asha"]),
        ("thanks (@baraka), and @asha.", ["baraka", "asha"]),
        ("@Asha and @ASHA again, then @asha", ["asha"]),
        ("mail asha@shop.co.ke or see x.@asha", []),
        ("@nobody knows", []),
        ("@asha_x is not asha, nor is @ashanti", []),
        ("line one\n@wanjiru: line two", ["wanjiru"]),
        ("@@asha", []),
    ],
)
def test_which_handles_a_text_mentions(text: str, expected: list[str]) -> None:
    assert mentioned_handles(text, HANDLES) == expected


def test_the_author_is_not_among_their_own_mentions() -> None:
    assert mentioned_handles("@asha @baraka", HANDLES, author="asha") == ["baraka"]


def test_split_marks_known_handles_and_keeps_everything_else_as_text() -> None:
    text = "<b>@asha</b> ask @nobody, mail a@b.com"
    pieces = split_mentions(text, HANDLES)
    assert "".join(p.text for p in pieces) == text
    assert [p for p in pieces if p.handle] == [Piece("@asha", "asha")]
    assert split_mentions("", HANDLES) == (Piece(""),)
    assert split_mentions("no mentions", HANDLES) == (Piece("no mentions"),)


def _notifications(world: World) -> list[tuple[int, int | None, str]]:
    with workspace_session(world.db, world.workspace_id) as session:
        return [
            (n.teammate_id, n.conversation_id, n.text)
            for n in session.scalars(select(Notification).order_by(Notification.id))
        ]


def test_each_mentioned_teammate_is_notified_once_and_the_author_never(world: World) -> None:
    conversation = world.conversation("Mention")
    with unit_of_work(world.db, world.workspace_id) as session:
        added = add_note(
            desk(session),
            world.principal("agent"),
            conversation,
            "@manager @other can you help? @manager again, and me @agent; @ghost, x@kevin.co",
            NOW,
        )
    assert added.notified == ("manager", "other")
    assert added.not_notified == ()
    found = _notifications(world)
    assert [(t, c) for t, c, _ in found] == [
        (world.people["manager"], conversation),
        (world.people["other"], conversation),
    ]
    assert found[0][2].startswith("Agent mentioned you in a note: @manager @other")


def test_a_teammate_who_cannot_see_it_is_not_notified_and_the_author_is_told(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = world.conversation("Hidden")
    with workspace_session(world.db, world.workspace_id) as session:
        kevin = session.get(Teammate, world.people["kevin"])
        assert kevin is not None
        kevin.active = False
        session.commit()
    real_may = work.may
    # Today everyone in a workspace may see every conversation; the day the policy says
    # otherwise, a mention must not leak the conversation to whoever it names.
    monkeypatch.setattr(
        work,
        "may",
        lambda principal, action, subject=None: (
            principal.teammate_id != world.people["other"] and real_may(principal, action, subject)
        ),
    )
    with unit_of_work(world.db, world.workspace_id) as session:
        added = add_note(
            desk(session), world.principal("agent"), conversation, "@other @kevin @manager", NOW
        )
    assert added.notified == ("manager",)
    assert [handle for handle, _ in added.not_notified] == ["other", "kevin"]
    assert "may not see this conversation" in added.not_notified[0][1]
    assert "no longer an active teammate" in added.not_notified[1][1]
    assert [t for t, _, _ in _notifications(world)] == [world.people["manager"]]


def test_the_page_highlights_mentions_escaped_and_the_badge_counts_them(web: Web) -> None:
    conversation = web.world.conversation("Page")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert 'data-handle="manager"' in page  # the handle list beside the note box
    body = "<img src=x onerror=alert(1)> @manager see <b>this</b>"
    answer = web.post(f"/inbox/c/{conversation}/note", {"body": body})
    assert answer.status_code == 303 and "unnotified" not in answer.headers["location"]
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert '<mark class="mention" data-handle="manager">@manager</mark>' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;this&lt;/b&gt;" in page

    web.sign_in("manager")
    assert 'class="count unread">1</span>' in web.client.get("/inbox").text
    listed = web.client.get("/notifications").text
    assert f'href="/inbox/c/{conversation}"' in listed and "Agent mentioned you" in listed


def test_the_page_tells_the_author_who_was_not_notified(web: Web) -> None:
    conversation = web.world.conversation("Told")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        kevin = session.get(Teammate, web.world.people["kevin"])
        assert kevin is not None
        kevin.active = False
        session.commit()
    web.sign_in("agent")
    answer = web.post(f"/inbox/c/{conversation}/note", {"body": "@kevin packed it?"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/inbox/c/{conversation}?unnotified=kevin#note"
    page = web.client.get(answer.headers["location"]).text
    assert "Not notified: @kevin." in page
    # Only handles are shown from the address: anything else is dropped, not echoed.
    forged = web.client.get(f"/inbox/c/{conversation}?unnotified=<script>,kevin").text
    assert "<script>" not in forged and "Not notified: @kevin." in forged


def test_the_api_note_notifies_and_says_who_was_not_notified(web: Web) -> None:
    conversation = web.world.conversation("Api mention")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        kevin = session.get(Teammate, web.world.people["kevin"])
        assert kevin is not None
        kevin.active = False
        session.commit()
    answer = web.client.post(
        f"/api/v1/conversations/{conversation}/notes",
        json={"body": "@agent @kevin @nobody"},
        headers=bearer(web.world, Role.MANAGER),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["notified"] == ["agent"]
    assert [n["handle"] for n in body["not_notified"]] == ["kevin"]
    assert [t for t, _, _ in _notifications(web.world)] == [web.world.people["agent"]]
