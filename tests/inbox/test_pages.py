"""The inbox in a browser's shoes: sign in, queues, the conversation page and its actions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.db import workspace_session
from engine.models import Conversation, Message
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def test_pages_need_a_session_and_send_you_to_sign_in(web: Web) -> None:
    response = web.client.get("/inbox", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login?next=%2Finbox")
    hx = web.client.get("/inbox", headers={"HX-Request": "true"}, follow_redirects=False)
    assert hx.headers["HX-Redirect"] == "/login"


def test_sign_in_sets_a_hardened_session_cookie_and_lands_in_the_inbox(web: Web) -> None:
    response = web.sign_in("agent")
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("kazi_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain-http localhost; see test_cookies_are_secure_over_https
    page = web.client.get("/inbox")
    assert page.status_code == 200
    assert "Agent" in page.text and "Unassigned" in page.text


def test_cookies_are_secure_over_https(web: Web) -> None:
    web.client.get("/login")
    response = web.client.post(
        "/login",
        data={
            "workspace": web.world.slug,
            "login": "agent",
            "password": "correct horse battery",
            "_csrf_token": web.csrf(),
        },
        headers={"X-Forwarded-Proto": "https"},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("kazi_session=")
    )
    assert "Secure" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part(web: Web) -> None:
    response = web.sign_in("agent", password="not the password")
    assert response.status_code == 401
    assert "That handle or password is not right." in response.text
    assert "kazi_session" not in response.headers.get("set-cookie", "")


def test_a_state_change_without_the_csrf_token_is_refused(web: Web) -> None:
    conversation = web.world.conversation("Csrf")
    web.sign_in("agent")
    refused = web.client.post(f"/inbox/c/{conversation}/claim", follow_redirects=False)
    assert refused.status_code == 403
    forged = web.client.post(
        f"/inbox/c/{conversation}/claim", headers={"X-CSRFToken": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    login = web.client.post(
        "/login",
        data={"workspace": web.world.slug, "login": "agent", "password": "x"},
        follow_redirects=False,
    )
    assert login.status_code == 403
    assert web.post(f"/inbox/c/{conversation}/claim").status_code == 303


def test_queues_show_counts_and_rows(web: Web) -> None:
    waiting = web.world.conversation("Wanjiku Mwangi", texts=("Bei ya TV?",))
    web.world.conversation("Mine", owner="agent")
    web.sign_in("agent")
    page = web.client.get("/inbox?queue=unassigned")
    assert 'data-count="unassigned">1<' in page.text
    assert 'data-count="mine">1<' in page.text
    assert f'href="/inbox/c/{waiting}"' in page.text and "Bei ya TV?" in page.text
    found = web.client.get("/inbox?queue=all&q=wanjiku")
    assert "Wanjiku Mwangi" in found.text and ">Mine<" not in found.text


def test_claim_reply_note_and_see_them_in_the_history(web: Web) -> None:
    conversation = web.world.conversation("Amina", texts=("Mna Samsung A15?",))
    web.sign_in("agent")
    assert web.post(f"/inbox/c/{conversation}/claim").status_code == 303
    page = web.client.get(f"/inbox/c/{conversation}")
    assert "Owner: <strong>Agent</strong>" in page.text
    assert "window closes in" in page.text
    latest = page.text.split('name="seen_message_id" value="')[1].split('"')[0]
    sent = web.post(
        f"/inbox/c/{conversation}/reply", {"body": "Ndiyo, KES 18,500", "seen_message_id": latest}
    )
    assert sent.status_code == 303
    assert (
        web.post(
            f"/inbox/c/{conversation}/note", {"body": "Wants delivery to Kilimani"}
        ).status_code
        == 303
    )
    history = web.client.get(f"/inbox/c/{conversation}/timeline").text
    assert (
        history.index("Mna Samsung A15?")
        < history.index("Ndiyo, KES 18,500")
        < history.index("Wants delivery")
    )
    assert 'data-state="queued"' in history


def test_the_second_claimer_is_told_who_won(web: Web, web2: Web) -> None:
    conversation = web.world.conversation("Race")
    web.sign_in("agent")
    web2.sign_in("other")
    assert web.post(f"/inbox/c/{conversation}/claim").status_code == 303
    lost = web2.post(f"/inbox/c/{conversation}/claim")
    assert lost.status_code == 409
    assert "Agent already owns this conversation" in lost.text


def test_the_second_replier_must_confirm(web: Web, web2: Web) -> None:
    conversation = web.world.conversation("Both")
    web.sign_in("agent")
    web2.sign_in("manager")
    seen = (
        web.client.get(f"/inbox/c/{conversation}")
        .text.split('name="seen_message_id" value="')[1]
        .split('"')[0]
    )
    web.post(f"/inbox/c/{conversation}/reply", {"body": "Karibu!", "seen_message_id": seen})
    web.clock.advance(timedelta(seconds=4))
    raced = web2.post(
        f"/inbox/c/{conversation}/reply", {"body": "Hello there", "seen_message_id": seen}
    )
    assert raced.status_code == 409
    assert "Agent replied 4 s ago." in raced.text
    assert 'name="confirmed" value="1"' in raced.text and "Hello there</textarea>" in raced.text
    confirmed = web2.post(
        f"/inbox/c/{conversation}/reply",
        {"body": "Hello there", "seen_message_id": seen, "confirmed": "1"},
    )
    assert confirmed.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        bodies = session.scalars(
            select(Message.body).where(
                Message.conversation_id == conversation, Message.direction == "outbound"
            )
        ).all()
    assert sorted(b or "" for b in bodies) == ["Hello there", "Karibu!"]


def test_outside_the_window_the_template_picker_replaces_free_text(web: Web) -> None:
    conversation = web.world.conversation("Late", owner="agent", last_at=NOW - timedelta(hours=30))
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "The 24-hour window is closed" in page
    assert 'id="reply-body"' not in page
    assert 'value="we_are_open:en"' in page and 'name="param_1" value="Late"' in page
    refused = web.post(f"/inbox/c/{conversation}/reply", {"body": "hi"})
    assert refused.status_code == 409 and "24 hours" in refused.text
    sent = web.post(
        f"/inbox/c/{conversation}/template", {"template": "we_are_open:en", "param_1": "Late"}
    )
    assert sent.status_code == 303
    assert (
        "Good morning Late, we are open" in web.client.get(f"/inbox/c/{conversation}/timeline").text
    )


def test_status_snooze_tags_tasks_and_assignment_from_the_page(web: Web) -> None:
    conversation = web.world.conversation("Busy", owner="agent")
    web.sign_in("manager")
    base = f"/inbox/c/{conversation}"
    assert web.post(f"{base}/tags", {"tag": "VIP"}).status_code == 303
    assert (
        web.post(
            f"{base}/tasks",
            {
                "title": "Call back",
                "due": "2026-11-25T15:00",
                "assignee": str(web.world.people["agent"]),
            },
        ).status_code
        == 303
    )
    assert web.post(f"{base}/snooze", {"until": "2026-11-26T08:00"}).status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        row = session.get(Conversation, conversation)
        assert row is not None and row.status == "snoozed"
        assert (
            row.snoozed_until is not None and row.snoozed_until.hour == 5
        )  # 08:00 Nairobi = 05:00 UTC
    assert web.post(f"{base}/status", {"status": "resolved"}).status_code == 303
    assert (
        web.post(
            f"{base}/assign",
            {
                "assignee": f"p{web.world.people['other']}",
                "expected_owner": str(web.world.people["agent"]),
                "note": "Please follow up",
            },
        ).status_code
        == 303
    )
    page = web.client.get(base).text
    assert "Owner: <strong>Other</strong>" in page and "Please follow up" in page
    assert "Manager assigned the conversation to Other" in page
    bad = web.post(f"{base}/tags", {"tag": "<b>"})
    assert bad.status_code == 400 and "a tag is" in bad.text


def test_an_agent_cannot_work_someone_elses_conversation(web: Web) -> None:
    conversation = web.world.conversation("Theirs", owner="other")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Other owns this conversation" in page and 'id="reply-body"' not in page
    refused = web.post(f"/inbox/c/{conversation}/reply", {"body": "hi"})
    assert refused.status_code == 403


def test_password_change_from_the_account_page(web: Web, web2: Web) -> None:
    web.sign_in("agent")
    web2.sign_in("agent")
    changed = web.post(
        "/account/password",
        {
            "current_password": "correct horse battery",
            "new_password": "new password 123",
            "repeat_password": "new password 123",
        },
    )
    assert changed.status_code == 200 and "1 other session(s) signed out" in changed.text
    assert web.client.get("/inbox", follow_redirects=False).status_code == 200
    assert web2.client.get("/inbox", follow_redirects=False).status_code in (302, 303, 307)


def test_sign_out_ends_the_session(web: Web) -> None:
    web.sign_in("agent")
    assert web.post("/logout").status_code == 303
    assert web.client.get("/inbox", follow_redirects=False).status_code in (302, 303, 307)


def test_sign_in_only_redirects_within_this_site(web: Web) -> None:
    for target, expected in (
        ("/inbox/c/5", "/inbox/c/5"),
        ("//evil.example/x", "/inbox"),
        ("https://evil.example/", "/inbox"),
        ("/\\evil.example", "/inbox"),
    ):
        web.client.cookies.clear()
        web.client.get("/login")
        response = web.client.post(
            "/login",
            data={
                "workspace": web.world.slug,
                "login": "agent",
                "password": "correct horse battery",
                "next": target,
                "_csrf_token": web.csrf(),
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected, target


def test_too_many_failures_answer_429_with_retry_after(web: Web) -> None:
    for _ in range(5):
        assert web.sign_in("other", password="wrong wrong wrong").status_code == 401
    blocked = web.sign_in("other")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed tries" in blocked.text
