"""The business writes first: an approved template opens a conversation in the number's
pipeline, owned by the sender, and only for contacts who opted in."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.contacts import ConsentSource, record_consent
from engine.db import workspace_session
from engine.models import (
    ConsentState,
    Conversation,
    Direction,
    Message,
    OutboxRow,
)
from tests.inbox.web import Web

WE_ARE_OPEN = {"template": "we_are_open:en", "param_1": "Amina"}


def add(web: Web, number: str, opt_in: str = "") -> str:
    added = web.post("/contacts/new", {"name": "Amina", "number": number, "opt_in": opt_in})
    assert added.status_code == 303
    return str(added.headers["location"])


def conversations(web: Web) -> list[Conversation]:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return list(session.scalars(select(Conversation).order_by(Conversation.id)))


def test_a_contact_without_opt_in_is_refused_with_the_reason(web: Web) -> None:
    web.sign_in("agent")
    record = add(web, "+254722111222")
    page = web.client.get(record).text
    assert "The business cannot write first: no opt-in is recorded" in page
    refused = web.post(f"{record}/start", WE_ARE_OPEN)
    assert refused.status_code == 400
    assert "no opt-in is recorded for this contact" in refused.text
    assert conversations(web) == []


def test_an_opted_in_contact_gets_the_template_in_a_conversation_the_sender_owns(
    web: Web,
) -> None:
    web.sign_in("agent")
    record = add(web, "+254722111222", opt_in="signed up at the counter")
    assert "Send and open a conversation" in web.client.get(record).text
    started = web.post(f"{record}/start", WE_ARE_OPEN)
    assert started.status_code == 303
    [conversation] = conversations(web)
    assert started.headers["location"] == f"/inbox/c/{conversation.id}"
    assert conversation.owner_id == web.world.people["agent"]
    assert (conversation.pipeline, conversation.stage) == ("sales", "inquiry")
    assert conversation.business_number == "+254711502300"
    assert (conversation.status, conversation.waiting_on) == ("waiting_on_customer", "customer")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [message] = session.scalars(select(Message)).all()
        assert message.direction == Direction.OUTBOUND and message.type == "template"
        assert message.body is not None and "Good morning Amina" in message.body
        rows = session.scalar(select(func.count()).select_from(OutboxRow))
    assert rows == 1
    again = web.post(f"{record}/start", WE_ARE_OPEN)
    assert again.status_code == 409 and f"#{conversation.id}" in again.text
    wrong = web.post(f"{record}/start", {"template": "we_are_open:en", "param_1": " "})
    assert wrong.status_code in (400, 409)


def test_a_customer_who_said_stop_is_refused_even_by_a_manager(web: Web) -> None:
    web.sign_in("manager")
    record = add(web, "+254722111333", opt_in="website form")
    contact_id = int(record.rsplit("/", 1)[1])
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        record_consent(
            session,
            contact_id,
            ConsentState.OPTED_OUT,
            source=ConsentSource.KEYWORD,
            detail="STOP",
            by_customer=True,
            now=web.clock.now(),
        )
        session.commit()
    refused = web.post(f"{record}/start", WE_ARE_OPEN)
    assert refused.status_code == 400 and "opted out themselves" in refused.text
    again = web.post(f"{record}/consent", {"state": "opted_in", "source": "they called"})
    assert again.status_code == 400 and "only a message from them" in again.text
    assert conversations(web) == []


def test_a_bad_template_writes_nothing(web: Web) -> None:
    web.sign_in("agent")
    record = add(web, "+254722111444", opt_in="counter")
    refused = web.post(f"{record}/start", {"template": "no_such:en", "param_1": "x"})
    assert refused.status_code == 400 and "no template" in refused.text
    missing = web.post(f"{record}/start", {"template": "we_are_open:en"})
    assert missing.status_code == 400 and "needs 1 filled value" in missing.text
    assert conversations(web) == []


def test_writing_to_a_number_finds_its_contact_in_any_whatsapp_form(web: Web) -> None:
    web.world.conversation("Carlos", phone="+5215512345678")
    web.sign_in("agent")
    found = web.client.get("/contacts/by-number?number=%2B52 55 1234 5678", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].endswith("#start")
    unknown = web.client.get("/contacts/by-number?number=0700000001")
    assert unknown.status_code == 400 and "no contact has the number +254700000001" in unknown.text
