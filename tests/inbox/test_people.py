"""The customer record page and the admin's teammates page."""

from __future__ import annotations

from sqlalchemy import select

from engine.auth import Role
from engine.db import workspace_session
from engine.models import AuditLog, Company, Contact, Conversation
from tests.inbox.seed import make_world
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def test_the_customer_record_shows_addresses_and_conversations(web: Web) -> None:
    conversation = web.world.conversation("<b>Otieno</b>", phone="+254711222333")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    contact_link = page.split('<h1 class="contact-name"><a href="')[1].split('"')[0]
    record = web.client.get(contact_link)
    assert record.status_code == 200
    assert "&lt;b&gt;Otieno&lt;/b&gt;" in record.text and "<b>Otieno" not in record.text
    assert "+254711222333" in record.text and f'href="/inbox/c/{conversation}"' in record.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        viewed = session.execute(
            select(AuditLog.action, AuditLog.subject_kind, AuditLog.actor_teammate_id).where(
                AuditLog.subject_kind == "contact"
            )
        ).all()
    assert [tuple(row) for row in viewed] == [("view", "contact", web.world.people["agent"])]
    assert web.client.get("/inbox/contacts/999999").status_code == 404


def test_another_workspaces_contact_is_not_found(web: Web) -> None:
    theirs_world = make_world(web.world.db)
    theirs_world.conversation("Theirs")
    web.sign_in("boss")
    with workspace_session(theirs_world.db, theirs_world.workspace_id) as session:
        contact_id = session.scalars(select(Contact.id)).one()
    response = web.client.get(f"/inbox/contacts/{contact_id}")
    assert response.status_code == 404 and "Theirs" not in response.text


def test_only_an_admin_sees_teammates_and_signs_them_out(web: Web, web2: Web) -> None:
    web2.sign_in("agent")
    assert web2.client.get("/account/team").status_code == 403
    web.sign_in("boss")
    page = web.client.get("/account/team")
    assert page.status_code == 200 and "Agent" in page.text
    ended = web.post(f"/account/team/{web.world.people['agent']}/signout")
    assert ended.status_code == 303
    assert web2.client.get("/inbox", follow_redirects=False).status_code in (302, 303, 307)
    refused = web2.post(f"/account/team/{web.world.people['boss']}/signout")
    assert refused.status_code in (302, 303, 307)  # signed out now: back to sign in


def test_an_admin_invites_by_issuing_a_password_shown_once(web: Web, web2: Web) -> None:
    web.sign_in("boss")
    issued = web.post(f"/account/team/{web.world.people['kevin']}/password")
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    password = issued.text.split('<code class="issued-password">')[1].split("</code>")[0]
    assert web2.sign_in("kevin", password=password).status_code == 303
    assert "issued-password" not in web.client.get("/account/team").text
    web2.client.cookies.clear()
    web2.sign_in("agent")
    assert web2.post(f"/account/team/{web.world.people['kevin']}/password").status_code == 403


def test_an_agent_edits_the_record_and_the_audit_says_from_what_to_what(web: Web) -> None:
    conversation = web.world.conversation("Baraka", phone="+254733000111")
    colleague = web.world.conversation("Wanjiru")
    web.sign_in("agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        contact_id, colleague_id = (
            session.scalars(select(Conversation.contact_id).where(Conversation.id == c)).one()
            for c in (conversation, colleague)
        )
    form = {"name": "Baraka O.", "language": "sw", "company": "Duka Ltd", "fields": "city: Kisumu"}
    assert web.post(f"/inbox/contacts/{contact_id}/edit", form).status_code == 303
    web.post(f"/inbox/contacts/{colleague_id}/edit", {"company": "duka ltd"})  # picks, not a twin
    page = web.client.get(f"/inbox/contacts/{contact_id}").text
    assert "Baraka O." in page and "Duka Ltd" in page and "Kisumu" in page
    assert f'href="/inbox/contacts/{colleague_id}">Wanjiru' in page
    bad = web.post(f"/inbox/contacts/{contact_id}/edit", {"fields": "no colon here"})
    assert bad.status_code == 400 and "key: value" in bad.text
    wrong = web.post(f"/inbox/contacts/{contact_id}/edit", {"language": "not a language"})
    assert wrong.status_code == 400 and "language" in wrong.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        (audit,) = session.scalars(
            select(AuditLog).where(AuditLog.action == "edit", AuditLog.subject_id == contact_id)
        )
        assert audit.actor_teammate_id == web.world.people["agent"]
        assert audit.detail["changes"]["name"] == {"from": None, "to": "Baraka O."}
        assert audit.detail["changes"]["fields"] == {"from": {}, "to": {"city": "Kisumu"}}
        assert len(session.scalars(select(Company)).all()) == 1


def test_the_api_edits_a_contact_with_json_errors(web: Web) -> None:
    conversation = web.world.conversation("Chebet")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        contact_id = session.scalars(
            select(Conversation.contact_id).where(Conversation.id == conversation)
        ).one()
    agent = bearer(web.world, Role.AGENT)
    url = f"/api/v1/contacts/{contact_id}/edit"
    done = web.client.post(
        url, json={"fields": {"tier": "gold"}, "language": "en-KE"}, headers=agent
    )
    assert done.status_code == 200
    assert done.json()["contact"]["fields"] == {"tier": "gold"}
    assert done.json()["changes"]["language"] == {"from": None, "to": "en-KE"}
    bad = web.client.post(url, json={"fields": {"Bad Key": "x"}}, headers=agent)
    assert bad.status_code == 400 and "Bad Key" in bad.json()["error"]
    missing = web.client.post("/api/v1/contacts/999999/edit", json={"name": "x"}, headers=agent)
    assert missing.status_code == 404 and missing.json()["error"] == "no contact 999999"
