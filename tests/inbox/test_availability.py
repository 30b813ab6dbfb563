"""The header's available/away toggle and the availability API."""

from __future__ import annotations

from sqlalchemy import select

from engine.auth import Role
from engine.db import workspace_session
from engine.models import AuditLog, Teammate
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def _away(web: Web, handle: str) -> bool:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return session.scalars(select(Teammate.away).where(Teammate.handle == handle)).one()


def test_the_header_toggle_sets_me_away_and_back(web: Web) -> None:
    web.sign_in("agent")
    page = web.client.get("/inbox").text
    assert "● Available" in page and 'name="away" value="1"' in page
    done = web.post("/account/availability", {"away": "1", "next": "/inbox"})
    assert done.status_code == 303 and done.headers["location"] == "/inbox"
    assert _away(web, "agent")
    page = web.client.get("/inbox").text
    assert "● Away" in page and 'name="away" value="0"' in page
    web.post("/account/availability", {"away": "0", "next": "//evil.example"})
    assert not _away(web, "agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.subject_kind == "teammate")
        ).all()
    assert actions == ["set_away", "set_available"]


def test_the_api_lists_and_sets_availability_with_a_managers_token(web: Web) -> None:
    manager = bearer(web.world, Role.MANAGER)
    agent = bearer(web.world, Role.AGENT)
    set_away = web.client.put("/api/v1/availability/kevin", json={"away": True}, headers=manager)
    assert set_away.status_code == 200, set_away.text
    assert set_away.json()["away"] is True and set_away.json()["away_since"]
    listed = {
        a["handle"]: a["away"] for a in web.client.get("/api/v1/availability", headers=agent).json()
    }
    assert listed["kevin"] is True and listed["agent"] is False
    refused = web.client.put("/api/v1/availability/kevin", json={"away": False}, headers=agent)
    assert refused.status_code == 403 and "manager" in refused.json()["error"]
    missing = web.client.put("/api/v1/availability/nobody", json={"away": True}, headers=manager)
    assert missing.status_code == 404
    assert _away(web, "kevin")


def test_the_admins_teammates_page_shows_who_is_away(web: Web) -> None:
    web.sign_in("agent")
    web.post("/account/availability", {"away": "1", "next": "/inbox"})
    web.client.cookies.clear()
    web.sign_in("boss")
    page = web.client.get("/account/team").text
    row = next(line for line in page.split("<tr") if "<td>agent</td>" in line)
    assert '<strong class="away">away</strong>' in row
    other = next(line for line in page.split("<tr") if "<td>kevin</td>" in line)
    assert "available" in other
