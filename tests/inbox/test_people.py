"""The customer record page and the admin's teammates page."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import workspace_session
from engine.models import AuditLog, Contact
from tests.inbox.seed import make_world
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
