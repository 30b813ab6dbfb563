"""The contacts API: add, correct a number, consent, write first, import and export."""

from __future__ import annotations

from engine.auth import Role
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def test_an_agent_token_adds_a_contact_and_writes_first_only_after_opt_in(web: Web) -> None:
    agent = bearer(web.world, Role.AGENT)
    created = web.client.post(
        "/api/v1/contacts/new",
        json={"name": "Amina", "number": "0722 111 222", "region": "KE", "tags": ["vip"]},
        headers=agent,
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    start = {"template": "we_are_open", "language": "en", "parameters": ["Amina"]}
    refused = web.client.post(
        f"/api/v1/contacts/{contact_id}/conversations", json=start, headers=agent
    )
    assert refused.status_code == 400 and "no opt-in is recorded" in refused.json()["error"]
    consent = web.client.post(
        f"/api/v1/contacts/{contact_id}/consent",
        json={"state": "opted_in", "source": "website form"},
        headers=agent,
    )
    assert consent.status_code == 200
    started = web.client.post(
        f"/api/v1/contacts/{contact_id}/conversations", json=start, headers=agent
    )
    assert started.status_code == 201 and started.json()["conversation_id"] > 0
    changed = web.client.post(
        f"/api/v1/contacts/{contact_id}/numbers",
        json={"number": "0733 000 111", "replaces": "+254722111222"},
        headers=agent,
    )
    assert changed.status_code == 200 and changed.json() == {"number": "+254733000111"}
    assert web.client.get("/api/v1/contacts/export", headers=agent).status_code == 403
    listing = {"csv": "name,phone\nB,0722000111\n"}
    assert (
        web.client.post("/api/v1/contacts/import", json=listing, headers=agent).status_code == 403
    )


def test_a_manager_token_imports_checks_first_and_exports(web: Web) -> None:
    manager = bearer(web.world, Role.MANAGER)
    listing = {
        "csv": "Name,Phone,Tags,Town\nAmina,0722 111 222,vip,nairobi\nX,123,,\n",
        "region": "KE",
    }
    problem = web.client.post("/api/v1/contacts/import", json=listing, headers=manager).json()
    assert problem["written"] is False and "unknown field 'town'" in problem["problems"][0]
    mapped = {**listing, "mapping": {"Town": "field:county"}}
    checked = web.client.post(
        "/api/v1/contacts/import", json={**mapped, "check": True}, headers=manager
    ).json()
    assert checked["written"] is False and checked["errors"][0]["line"] == 3
    done = web.client.post("/api/v1/contacts/import", json=mapped, headers=manager).json()
    assert (done["written"], done["created"], len(done["errors"])) == (True, 1, 1)
    again = web.client.post("/api/v1/contacts/import", json=mapped, headers=manager).json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    exported = web.client.get("/api/v1/contacts/export?tags=vip", headers=manager)
    assert exported.status_code == 200
    assert exported.text.splitlines()[1].startswith("Amina,+254722111222,")
