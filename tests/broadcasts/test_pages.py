"""Broadcast pages and API: a manager previews who a broadcast reaches and sends it; the
report lists the skipped; agents may not; creating one is audited and queues nothing in
the request (a worker job does)."""

from __future__ import annotations

from sqlalchemy import select

from engine.auth import Role
from engine.broadcasts import queue_broadcast
from engine.db import workspace_session
from engine.models import AuditLog, Broadcast, BroadcastRecipient, Message
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def add_people(web: Web) -> None:
    for name, number, opt_in in (
        ("Amina Wanjiku", "0722 111 222", "signed up at the counter"),
        ("Brian Otieno", "0733 000 111", ""),
    ):
        added = web.post(
            "/contacts/new",
            {"name": name, "number": number, "region": "KE", "tags": "offers", "opt_in": opt_in},
        )
        assert added.status_code == 303, added.text
    saved = web.post("/contacts/segments", {"name": "Offers", "tags": "offers"})
    assert saved.status_code == 303


def segment_key(web: Web) -> str:
    page = web.client.get("/broadcasts/new")
    assert page.status_code == 200
    marker = 'value="saved:'
    start = page.text.index(marker) + len('value="')
    return page.text[start : page.text.index('"', start)]


def test_a_manager_previews_sends_and_sees_the_report(web: Web) -> None:
    web.sign_in("manager")
    add_people(web)
    listing = web.client.get("/broadcasts")
    assert listing.status_code == 200 and "No broadcast yet" in listing.text
    assert 'href="/broadcasts"' in listing.text  # the manager's nav
    segment = segment_key(web)
    form = {
        "name": "Week 49 offer",
        "segment": segment,
        "template": "weekly_offer|en",
        "shown_template": "weekly_offer|en",
        "var1": "contact.first_name",
        "var2": "Samsung A15 at KES 15,999",
        "when": "now",
        "action": "preview",
    }
    shown = web.post("/broadcasts/new", form)
    assert shown.status_code == 200, shown.text
    assert '<strong id="recipient-count">1</strong> of 2 contacts' in shown.text
    assert "no opt-in recorded: 1" in shown.text
    assert "Hi Amina, this week at Duka Bora: Samsung A15 at KES 15,999." in shown.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert session.scalars(select(Broadcast)).all() == []  # a preview writes nothing

    sent = web.post("/broadcasts/new", {**form, "action": "send"})
    assert sent.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [broadcast] = session.scalars(select(Broadcast)).all()
        assert session.scalars(select(BroadcastRecipient)).all() == []  # the job queues
        [audit] = session.scalars(
            select(AuditLog).where(AuditLog.action == "broadcast_created")
        ).all()
        assert audit.subject_id == broadcast.id
    queue_broadcast(
        broadcast_id=broadcast.id,
        db=web.world.db,
        clock=web.runtime.clock,
        configs=web.runtime.configs,
    )
    report = web.client.get(sent.headers["location"])
    assert report.status_code == 200
    assert 'id="broadcast-state">queued<' in report.text
    assert "Brian Otieno" in report.text and "no opt-in recorded" in report.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [message] = session.scalars(select(Message)).all()
        assert message.body is not None and message.body.startswith("Hi Amina,")
        [viewed] = session.scalars(
            select(AuditLog).where(AuditLog.action == "view", AuditLog.subject_kind == "broadcast")
        ).all()
        assert viewed.subject_id == broadcast.id  # who received it is customer data


def test_a_changed_template_shows_its_variables_and_a_wrong_one_is_refused(web: Web) -> None:
    web.sign_in("manager")
    add_people(web)
    segment = segment_key(web)
    switched = web.post(
        "/broadcasts/new",
        {
            "name": "x",
            "segment": segment,
            "template": "we_are_open|en",
            "shown_template": "weekly_offer|en",
            "action": "preview",
        },
    )
    assert switched.status_code == 200 and 'name="var1" value="contact.first_name"' in switched.text
    assert 'name="var2"' not in switched.text
    wrong = web.post(
        "/broadcasts/new",
        {
            "name": "x",
            "segment": segment,
            "template": "weekly_offer|en",
            "shown_template": "weekly_offer|en",
            "var1": "contact.shoe_size",
            "var2": "offer",
            "action": "send",
        },
    )
    assert wrong.status_code == 400 and "not something a contact has" in wrong.text


def test_agents_may_not_and_the_api_previews_creates_and_reports(web: Web) -> None:
    web.sign_in("manager")
    add_people(web)
    segment = segment_key(web)
    agent = bearer(web.world, Role.AGENT)
    assert web.client.get("/api/v1/broadcasts", headers=agent).status_code == 403
    manager = bearer(web.world, Role.MANAGER)
    body = {
        "name": "API offer",
        "template": "weekly_offer",
        "language": "en",
        "segment": segment,
        "variables": ["contact.first_name | rafiki", "free delivery"],
    }
    checked = web.client.post("/api/v1/broadcasts", json={**body, "check": True}, headers=manager)
    assert checked.status_code == 201, checked.text
    assert (checked.json()["recipients"], checked.json()["skipped"]) == (
        1,
        {"no opt-in recorded": 1},
    )
    created = web.client.post("/api/v1/broadcasts", json=body, headers=manager)
    assert created.status_code == 201
    broadcast_id = created.json()["id"]
    queue_broadcast(
        broadcast_id=broadcast_id,
        db=web.world.db,
        clock=web.runtime.clock,
        configs=web.runtime.configs,
    )
    report = web.client.get(f"/api/v1/broadcasts/{broadcast_id}", headers=manager).json()
    assert (report["recipients"], report["waiting"], report["skipped"]) == (
        1,
        1,
        {"no opt-in recorded": 1},
    )
    cancelled = web.client.post(f"/api/v1/broadcasts/{broadcast_id}/cancel", headers=manager)
    assert cancelled.status_code == 409  # fully queued already
    web.sign_in("agent")
    assert web.client.get("/broadcasts").status_code == 403
