"""Escalations with a named decision-maker: asked from the page, the API or a rule; the
decision-maker is notified and sees a task; the manager's view shows who must decide and
how long it has waited; the decision is recorded on the conversation and audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.auth import Role
from engine.db import workspace_session
from engine.inbox.contact_privacy import erase_contact
from engine.models import AuditLog, Escalation, Note, Notification, Task
from tests.inbox.seed import NOW
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def test_an_agent_escalates_the_manager_decides_and_the_page_shows_it(web: Web, web2: Web) -> None:
    world = web.world
    conversation = world.conversation("Wairimu", owner="agent", stage="inquiry")
    web.sign_in("agent")
    empty = web.post(
        f"/inbox/c/{conversation}/escalate",
        {"decider_id": str(world.people["kevin"]), "reason": "  "},
    )
    assert empty.status_code == 400 and "say why" in empty.text
    asked = web.post(
        f"/inbox/c/{conversation}/escalate",
        {"decider_id": str(world.people["kevin"]), "reason": "Customer wants 15% off a TV"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/inbox/c/{conversation}#escalations"
    with workspace_session(world.db, world.workspace_id) as session:
        [escalation] = session.scalars(select(Escalation)).all()
        assert escalation.decider_id == world.people["kevin"]
        assert escalation.asked_by_id == world.people["agent"]
        assert escalation.reason == "Customer wants 15% off a TV"
        [told] = session.scalars(
            select(Notification).where(Notification.teammate_id == world.people["kevin"])
        ).all()
        assert "15% off" in told.text and told.conversation_id == conversation
        [task] = session.scalars(select(Task).where(Task.conversation_id == conversation)).all()
        assert task.assignee_id == world.people["kevin"]
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Kevin</strong> to decide: Customer wants 15% off a TV" in page
    assert "/decision" not in page  # the agent who asked does not decide

    # The manager's view: who must decide, and for how long it has waited.
    web.clock.advance(timedelta(hours=2, minutes=5))
    web2.sign_in("manager")
    view = web2.client.get("/manager").text
    assert "Waiting for a decision" in view
    row = view[view.index('id="decisions"') :]
    assert "Kevin" in row and "Customer wants 15% off a TV" in row and "2 h 5 min" in row

    # Only Kevin (or a manager) decides; the agent is refused.
    refused = web.post(
        f"/inbox/c/{conversation}/escalations/{escalation.id}/decision",
        {"decision": "approve", "note": "ok"},
    )
    assert refused.status_code == 403
    decided = web2.post(
        f"/inbox/c/{conversation}/escalations/{escalation.id}/decision",
        {"decision": "decline", "note": "10% is our ceiling"},
    )
    assert decided.status_code == 303
    twice = web2.post(
        f"/inbox/c/{conversation}/escalations/{escalation.id}/decision", {"decision": "approve"}
    )
    assert twice.status_code == 409
    with workspace_session(world.db, world.workspace_id) as session:
        row_ = session.get(Escalation, escalation.id)
        assert row_ is not None
        assert (row_.decision, row_.note) == ("declined", "10% is our ceiling")
        assert row_.decided_by_id == world.people["manager"]
        notes = [n.body for n in session.scalars(select(Note)).all()]
        assert "Escalation declined by Manager: 10% is our ceiling" in notes
        assert [
            a.detail["decision"]
            for a in session.scalars(
                select(AuditLog).where(AuditLog.action == "escalation_decided")
            )
        ] == ["declined"]
        back = session.scalars(
            select(Notification).where(Notification.teammate_id == world.people["agent"])
        ).all()
        assert any("declined your escalation" in n.text for n in back)
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Declined</strong> by Manager" in page and "10% is our ceiling" in page
    assert "Nothing is waiting for a decision." in web2.client.get("/manager").text


def test_the_api_escalates_lists_and_decides(web: Web) -> None:
    world = web.world
    conversation = world.conversation("Otieno", owner="agent")
    manager = bearer(world, Role.MANAGER)
    base = f"/api/v1/conversations/{conversation}/escalations"
    nobody = web.client.post(base, json={"decider_id": 99999, "reason": "x"}, headers=manager)
    assert nobody.status_code == 404
    made = web.client.post(
        base,
        json={"decider_id": world.people["boss"], "reason": "Refund KES 4,000?"},
        headers=manager,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["decider"], body["reason"], body["decision"]) == (
        "Boss",
        "Refund KES 4,000?",
        None,
    )
    web.clock.advance(timedelta(minutes=30))
    [waiting] = web.client.get("/api/v1/escalations", headers=manager).json()
    assert waiting["id"] == body["id"] and waiting["waiting_seconds"] == 1800
    agent = bearer(world, Role.AGENT)
    assert web.client.get("/api/v1/escalations", headers=agent).json() == []  # not theirs
    assert (
        web.client.post(
            f"{base}/{body['id']}/decision", json={"decision": "approve"}, headers=agent
        ).status_code
        == 403
    )
    bad = web.client.post(
        f"{base}/{body['id']}/decision", json={"decision": "maybe"}, headers=manager
    )
    assert bad.status_code == 400
    done = web.client.post(
        f"{base}/{body['id']}/decision",
        json={"decision": "approve", "note": "Yes, once"},
        headers=manager,
    )
    assert done.status_code == 200
    assert (done.json()["decision"], done.json()["waiting_seconds"]) == ("approved", None)
    assert [e["decision"] for e in web.client.get(base, headers=manager).json()] == ["approved"]
    assert web.client.get("/api/v1/escalations", headers=manager).json() == []


def test_erasing_the_customer_erases_why_it_was_escalated_but_not_who_decided(web: Web) -> None:
    world = web.world
    conversation = world.conversation("Zuhura Said", owner="agent")
    web.sign_in("agent")
    web.post(
        f"/inbox/c/{conversation}/escalate",
        {"decider_id": str(world.people["manager"]), "reason": "Zuhura Said wants a refund"},
    )
    with workspace_session(world.db, world.workspace_id) as session:
        [escalation] = session.scalars(select(Escalation)).all()
        contact_id = escalation.conversation.contact_id
        erase_contact(session, world.principal("boss"), contact_id, "ERASE", NOW)
        session.commit()
    with workspace_session(world.db, world.workspace_id) as session:
        kept = session.get(Escalation, escalation.id)
        assert kept is not None
        assert kept.reason == "[erased]" and kept.decider_id == world.people["manager"]
