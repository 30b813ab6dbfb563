"""The JSON API: Bearer tokens, the same policy as the pages, JSON errors, OpenAPI."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.auth import Role, create_api_token
from tests.inbox.seed import NOW, World, make_world
from tests.inbox.web import Web


def bearer(world: World, role: Role) -> dict[str, str]:
    token = create_api_token(
        world.db, workspace_id=world.workspace_id, role=role, label="test", now=NOW
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def manager(web: Web) -> dict[str, str]:
    return bearer(web.world, Role.MANAGER)


def test_without_a_valid_token_the_api_answers_401_in_json(web: Web) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer kazi_1.nonsense-nonsense-nonsense"},
        {"Authorization": "Basic x"},
    ):
        response = web.client.get("/api/v1/conversations", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == 401 and "token" in body["error"]


def test_a_session_cookie_does_not_open_the_api(web: Web) -> None:
    web.sign_in("manager")
    assert web.client.get("/api/v1/conversations").status_code == 401


def test_queues_with_counts(web: Web, manager: dict[str, str]) -> None:
    first = web.world.conversation("First", last_at=NOW - timedelta(hours=2))
    second = web.world.conversation("Second", last_at=NOW - timedelta(hours=1), stage="quoted")
    body = web.client.get("/api/v1/conversations?queue=unassigned", headers=manager).json()
    assert [item["id"] for item in body["items"]] == [first, second]
    assert body["counts"]["unassigned"] == 2 and body["counts"]["mine"] == 0
    staged = web.client.get("/api/v1/conversations?queue=all&stage=quoted", headers=manager).json()
    assert [item["id"] for item in staged["items"]] == [second]
    found = web.client.get("/api/v1/conversations?queue=all&q=firs", headers=manager).json()
    assert [item["id"] for item in found["items"]] == [first]


def test_send_note_task_assign_status_and_read_it_all_back(
    web: Web, manager: dict[str, str]
) -> None:
    conversation = web.world.conversation("Api", texts=("Niko na swali",))
    base = f"/api/v1/conversations/{conversation}"
    sent = web.client.post(f"{base}/messages", json={"body": "Karibu!"}, headers=manager)
    assert sent.status_code == 201, sent.text
    assert sent.json()["delivery_state"] == "queued"
    assert (
        web.client.post(f"{base}/notes", json={"body": "VIP"}, headers=manager).status_code == 201
    )
    task = web.client.post(
        f"{base}/tasks",
        json={"title": "Call", "due_at": "2026-11-25T12:00:00+03:00"},
        headers=manager,
    )
    assert task.status_code == 201 and datetime.fromisoformat(task.json()["due_at"]) == NOW
    assigned = web.client.put(
        f"{base}/assignment",
        json={"expected_owner_id": None, "teammate_id": web.world.people["agent"]},
        headers=manager,
    )
    assert assigned.status_code == 200 and assigned.json()["owner_name"] == "Agent"
    stale = web.client.put(
        f"{base}/assignment", json={"expected_owner_id": None, "teammate_id": None}, headers=manager
    )
    assert stale.status_code == 409 and "Agent owns" in stale.json()["error"]
    assert web.client.post(f"{base}/tags", json={"name": "Hot"}, headers=manager).json() == {
        "tag": "hot"
    }
    resolved = web.client.put(f"{base}/status", json={"status": "resolved"}, headers=manager)
    assert resolved.json()["status"] == "resolved"
    detail = web.client.get(base, headers=manager).json()
    assert [e["kind"] for e in detail["timeline"]][:2] == ["message", "message"]
    assert {e["text"] for e in detail["timeline"]} >= {"Niko na swali", "Karibu!", "VIP", "Call"}
    assert detail["tags"] == ["hot"] and detail["window_open"] is True
    messages = web.client.get(f"{base}/messages", headers=manager).json()
    assert [m["direction"] for m in messages] == ["inbound", "outbound"]
    assert [n["body"] for n in web.client.get(f"{base}/notes", headers=manager).json()] == ["VIP"]
    contact = web.client.get(f"/api/v1/contacts/{detail['contact_id']}", headers=manager).json()
    assert contact["name"] == "Api" and contact["conversations"][0]["id"] == conversation
    assert [c["id"] for c in web.client.get("/api/v1/contacts?q=api", headers=manager).json()] == [
        detail["contact_id"]
    ]


def test_errors_are_json_with_a_clear_message(web: Web, manager: dict[str, str]) -> None:
    conversation = web.world.conversation("Errors", last_at=NOW - timedelta(hours=30))
    base = f"/api/v1/conversations/{conversation}"
    closed = web.client.post(f"{base}/messages", json={"body": "hi"}, headers=manager)
    assert closed.status_code == 409 and "24 hours" in closed.json()["error"]
    template = web.client.post(
        f"{base}/messages",
        json={"template": "we_are_open", "parameters": ["Errors"]},
        headers=manager,
    )
    assert template.status_code == 201, template.text
    empty = web.client.post(f"{base}/messages", json={}, headers=manager)
    assert empty.status_code == 400 and "body" in empty.json()["error"]
    malformed = web.client.post(f"{base}/notes", json={"nope": 1}, headers=manager)
    assert malformed.status_code == 400 and malformed.json()["status"] == 400
    naive = web.client.put(f"{base}/snooze", json={"until": "2026-11-26T08:00:00"}, headers=manager)
    assert naive.status_code == 400 and "time zone" in naive.json()["error"]


def test_an_agent_token_cannot_reassign_or_work_owned_conversations(web: Web) -> None:
    agent = bearer(web.world, Role.AGENT)
    owned = web.world.conversation("Owned", owner="other")
    base = f"/api/v1/conversations/{owned}"
    refused = web.client.post(f"{base}/messages", json={"body": "hi"}, headers=agent)
    assert refused.status_code == 403 and "owner" in refused.json()["error"]
    assert (
        web.client.put(
            f"{base}/assignment",
            json={"expected_owner_id": web.world.people["other"], "teammate_id": None},
            headers=agent,
        ).status_code
        == 403
    )
    assert web.client.post(f"{base}/notes", json={"body": "fyi"}, headers=agent).status_code == 201


def test_the_reply_race_is_409_with_who_and_when(web: Web, manager: dict[str, str]) -> None:
    conversation = web.world.conversation("Race")
    seen = web.client.get(f"/api/v1/conversations/{conversation}", headers=manager).json()[
        "latest_message_id"
    ]
    web.sign_in("agent")
    web.post(f"/inbox/c/{conversation}/reply", {"body": "first", "seen_message_id": str(seen)})
    web.clock.advance(timedelta(seconds=7))
    raced = web.client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"body": "second", "seen_message_id": seen},
        headers=manager,
    )
    assert raced.status_code == 409
    assert raced.json()["replied_by"] == "Agent" and raced.json()["seconds_ago"] == 7
    again = web.client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"body": "second", "seen_message_id": seen, "confirmed": True},
        headers=manager,
    )
    assert again.status_code == 201


def test_another_workspaces_ids_are_404_through_the_api(web: Web, manager: dict[str, str]) -> None:
    other = make_world(web.world.db)
    theirs = other.conversation("Theirs")
    base = f"/api/v1/conversations/{theirs}"
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("GET", f"{base}/notes", None),
        ("POST", f"{base}/messages", {"body": "hi"}),
        ("POST", f"{base}/notes", {"body": "hi"}),
        ("POST", f"{base}/tasks", {"title": "x"}),
        ("PUT", f"{base}/assignment", {"expected_owner_id": None, "teammate_id": None}),
        ("PUT", f"{base}/status", {"status": "resolved"}),
    ):
        response = web.client.request(method, path, json=body, headers=manager)
        assert response.status_code == 404, (method, path, response.text)
        assert "Theirs" not in response.text
    theirs_token = bearer(other, Role.ADMIN)
    mine = web.world.conversation("Mine")
    assert web.client.get(f"/api/v1/conversations/{mine}", headers=theirs_token).status_code == 404
    listed = web.client.get("/api/v1/conversations?queue=all", headers=theirs_token).json()
    assert [item["id"] for item in listed["items"]] == [theirs]


def test_the_openapi_document_describes_the_api(web: Web) -> None:
    schema = web.client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/conversations" in paths
    assert "/api/v1/conversations/{conversation_id}/messages" in paths
    assert "post" in paths["/api/v1/conversations/{conversation_id}/messages"]


def test_rules_delayed_follow_ups_are_listed_and_cancelled_through_the_api(
    web: Web, manager: dict[str, str]
) -> None:
    conversation = web.world.conversation("Follow-up", owner="agent", stage="inquiry")
    moved = web.client.put(
        f"/api/v1/conversations/{conversation}/stage",
        json={"stage": "quote", "expected_stage": "inquiry"},
        headers=manager,
    )
    assert moved.status_code == 200, moved.text
    listed = web.client.get(f"/api/v1/conversations/{conversation}/scheduled", headers=manager)
    [chase] = listed.json()
    assert chase["rule"] == "Send the quote" and chase["state"] == "pending"
    assert "customer replied" in chase["unless"]
    url = f"/api/v1/conversations/{conversation}/scheduled/{chase['id']}/cancel"
    cancelled = web.client.post(url, headers=manager)
    assert cancelled.status_code == 200 and cancelled.json() == {"cancelled": True}
    again = web.client.post(url, headers=manager)
    assert again.status_code == 409 and "already ran or was cancelled" in again.json()["error"]
    [after] = web.client.get(
        f"/api/v1/conversations/{conversation}/scheduled", headers=manager
    ).json()
    assert after["state"] == "cancelled"
    theirs = make_world(web.world.db).conversation("Theirs")
    assert (
        web.client.get(f"/api/v1/conversations/{theirs}/scheduled", headers=manager).status_code
        == 404
    )
