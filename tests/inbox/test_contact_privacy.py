"""Export one contact's data; erase one contact so nothing personal is left anywhere."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Enum, String, Text, cast, or_, select
from sqlalchemy.orm import Session

from engine.auth import Role
from engine.auth.policy import Forbidden
from engine.db import system_session, workspace_session
from engine.identity import identify
from engine.inbox.contact_privacy import erase_contact, export_contact, scrub, secrets_of
from engine.inbox.contacts import ContactEdit, edit_contact
from engine.inbox.errors import InvalidInput
from engine.inbox.queues import display_name
from engine.models import (
    AiResult,
    AuditLog,
    Base,
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    InboundEvent,
    MediaFile,
    Message,
    MessageStatusEvent,
    Note,
    Notification,
    OutboxRow,
    Payment,
    Task,
)
from tests.inbox.seed import NOW, World
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

NAME = "Zawadi Kamau"
PHONE = "+254722333444"
SECRET_TEXT = "deliver to 12 Elm Lane"


def personal_world(world: World) -> tuple[int, int, int]:
    """A contact with data in every place Kazi keeps some: (contact, conversation, payment)."""
    conversation_id = world.conversation(NAME, phone=PHONE, texts=(SECRET_TEXT,))
    with workspace_session(world.db, world.workspace_id) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        contact_id = conversation.contact_id
        edit_contact(
            session,
            world.principal("agent"),
            contact_id,
            ContactEdit(name="Zawadi K.", fields={"estate": "Kileleshwa Gardens"}),
            NOW,
        )
        edit_contact(session, world.principal("agent"), contact_id, ContactEdit(name=NAME), NOW)
        conversation.fields = {"delivery": "Kileleshwa Gardens"}
        payment = BusinessObject(
            kind="payment_request",
            external_ref="MPESA-QX12",
            status="paid",
            amount=Decimal("2500"),
            currency="KES",
            fields={"payer": NAME, "phone": PHONE},
            contact_id=contact_id,
        )
        session.add(payment)
        session.flush()
        session.add(
            BusinessObjectLink(business_object_id=payment.id, conversation_id=conversation_id)
        )
        session.add(
            Note(
                conversation_id=conversation_id,
                body="Zawadi prefers evening calls",
                author_kind="teammate",
                created_at=NOW,
            )
        )
        session.add(
            Task(title="Call Zawadi Kamau", conversation_id=conversation_id, created_at=NOW)
        )
        session.add(
            Notification(
                teammate_id=world.people["agent"],
                conversation_id=conversation_id,
                text="Zawadi Kamau wrote",
                source="rule",
                created_at=NOW,
            )
        )
        outbound = Message(
            conversation_id=conversation_id,
            direction="outbound",
            type="image",
            body="Hi Zawadi, here is the map",
            media={"caption": "Map to Kileleshwa Gardens", "media_id": "m1"},
            author_kind="teammate",
            delivery_state="delivered",
        )
        session.add(outbound)
        session.flush()
        session.add(
            MessageStatusEvent(
                message_id=outbound.id,
                status="delivered",
                raw={"recipient_id": PHONE.lstrip("+"), "status": "delivered"},
                recorded_at=NOW,
            )
        )
        session.add(
            OutboxRow(
                kind="send",
                payload={"to": PHONE.lstrip("+"), "text": "Hi Zawadi, here is the map"},
                idempotency_key="send-1",
                conversation_id=conversation_id,
            )
        )
        session.add(
            InboundEvent(
                provider="whatsapp",
                dedup_key="evt-1",
                payload={
                    "contacts": [{"wa_id": PHONE.lstrip("+"), "profile": {"name": NAME}}],
                    "messages": [{"from": PHONE.lstrip("+"), "text": {"body": SECRET_TEXT}}],
                },
                signature_ok=True,
                received_at=NOW,
            )
        )
        # What the AI and M-Pesa keep about them (merged after this test was written).
        session.add(
            AiResult(
                conversation_id=conversation_id,
                job="summarise",
                result={"sentences": [f"{NAME} asked us to {SECRET_TEXT}"]},
                source="offline",
                confidence=0.7,
                at=NOW,
            )
        )
        session.add(
            Payment(
                provider="mpesa",
                integration="mpesa",
                source="c2b",
                conversation_id=conversation_id,
                phone=PHONE.lstrip("+"),
                paid_amount=Decimal("2500"),
                currency="KES",
                state="paid",
                receipt="QX12ABCDEF",
                raw_callback={
                    "MSISDN": PHONE.lstrip("+"),
                    "FirstName": "Zawadi",
                    "TransAmount": "2500",
                },
                requested_at=NOW,
            )
        )
        session.commit()
        return contact_id, conversation_id, payment.id


def traces(session: Session, workspace_id: int, needles: list[str]) -> list[str]:
    """Every text or JSON column of every table that still holds one of `needles`."""
    found = []
    for table in Base.metadata.sorted_tables:
        mine = table.c.workspace_id if "workspace_id" in table.c else table.c.id
        for column in table.columns:
            kind = getattr(column.type, "impl_instance", column.type)
            if not isinstance(kind, String | Text | JSON) or isinstance(kind, Enum):
                continue  # an enum holds only its own words
            as_text = cast(column, String) if isinstance(kind, JSON) else column
            hits = session.execute(
                select(table.c.id).where(
                    mine == workspace_id, or_(*(as_text.contains(n) for n in needles))
                )
            ).all()
            found += [f"{table.name}.{column.name}#{row.id}" for row in hits]
    return found


def test_the_scrubber_replaces_strings_that_contain_a_secret() -> None:
    secrets = secrets_of([PHONE, NAME, None, "ok"])
    assert secrets == {PHONE, PHONE.lstrip("+"), NAME}
    cleaned, hit = scrub({"a": [f"from {PHONE.lstrip('+')}", 5], "b": "other"}, secrets)
    assert hit and cleaned == {"a": ["[erased]", 5], "b": "other"}


def test_erasing_leaves_no_personal_data_anywhere(world: World) -> None:
    contact_id, conversation_id, payment_id = personal_world(world)
    needles = [NAME, "Zawadi", PHONE.lstrip("+"), "Elm Lane", "Kileleshwa"]
    with system_session(world.db) as session:
        assert len(traces(session, world.workspace_id, needles)) >= 10  # really spread around
    admin = world.principal("boss")
    with workspace_session(world.db, world.workspace_id) as session:
        with pytest.raises(InvalidInput, match="ERASE"):
            erase_contact(session, admin, contact_id, "yes", NOW)
        with pytest.raises(Forbidden):
            erase_contact(session, world.principal("manager"), contact_id, "ERASE", NOW)
        erasure = erase_contact(session, admin, contact_id, " ERASE ", NOW)
        session.commit()
    assert erasure.messages == 2 and erasure.notes == 1 and erasure.raw_records >= 2
    with system_session(world.db) as session:
        assert traces(session, world.workspace_id, needles) == []
    with workspace_session(world.db, world.workspace_id) as session:
        payment = session.get(BusinessObject, payment_id)
        assert payment is not None and payment.contact_id == contact_id
        assert (payment.external_ref, payment.amount, payment.status) == (
            "MPESA-QX12",
            2500,
            "paid",
        )
        [mpesa] = session.scalars(select(Payment))
        assert (mpesa.receipt, mpesa.paid_amount, mpesa.state) == ("QX12ABCDEF", 2500, "paid")
        assert erasure.ai_results == 1
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.erased_at is not None
        assert display_name(contact) == f"Erased contact {contact_id}"
        assert session.get(Conversation, conversation_id) is not None
        (audit,) = session.scalars(select(AuditLog).where(AuditLog.action == "erase"))
        assert audit.subject_id == contact_id and "2" in json.dumps(audit.detail)
        # The number writes again: a new person to Kazi, not the erased one.
        fresh = identify(session, "whatsapp", PHONE, NOW + timedelta(days=1), profile_name="Z")
        assert fresh.id != contact_id


def test_the_page_erases_only_for_an_admin_after_typing_erase(web: Web, web2: Web) -> None:
    contact_id, _, _ = personal_world(web.world)
    web2.sign_in("manager")
    page = web2.client.get(f"/inbox/contacts/{contact_id}").text
    assert "Erase this contact" not in page and "/export" in page
    assert web2.post(f"/inbox/contacts/{contact_id}/erase", {"confirm": "ERASE"}).status_code == 403
    web.sign_in("boss")
    page = web.client.get(f"/inbox/contacts/{contact_id}").text
    assert "cannot be undone" in page
    wrong = web.post(f"/inbox/contacts/{contact_id}/erase", {"confirm": "erase"})
    assert wrong.status_code == 400 and "type ERASE" in wrong.text
    assert web.post(f"/inbox/contacts/{contact_id}/erase", {"confirm": "ERASE"}).status_code == 303
    after = web.client.get(f"/inbox/contacts/{contact_id}").text
    assert 'id="erased"' in after and NAME not in after and PHONE not in after


def test_export_is_a_no_store_attachment_with_everything_and_is_audited(
    web: Web, web2: Web
) -> None:
    contact_id, conversation_id, _ = personal_world(web.world)
    web2.sign_in("agent")
    assert web2.client.get(f"/inbox/contacts/{contact_id}").status_code == 200  # a view
    assert web2.client.get(f"/inbox/contacts/{contact_id}/export").status_code == 403
    web.sign_in("manager")
    download = web.client.get(f"/inbox/contacts/{contact_id}/export")
    assert download.status_code == 200
    assert (
        download.headers["content-disposition"]
        == f'attachment; filename="contact-{contact_id}.json"'
    )
    assert download.headers["cache-control"] == "no-store"
    document = download.json()
    assert document["contact"]["name"] == NAME
    assert document["contact"]["fields"] == {"estate": "Kileleshwa Gardens"}
    assert [i["address"] for i in document["identities"]] == [PHONE]
    (conversation,) = document["conversations"]
    assert conversation["id"] == conversation_id
    assert [m["body"] for m in conversation["messages"]] == [
        SECRET_TEXT,
        "Hi Zawadi, here is the map",
    ]
    assert conversation["messages"][1]["media"]["media_id"] == "m1"
    assert [n["body"] for n in conversation["notes"]] == ["Zawadi prefers evening calls"]
    assert [t["title"] for t in conversation["tasks"]] == ["Call Zawadi Kamau"]
    (payment,) = document["business_objects"]
    assert payment["amount"] == "2500.0000" and payment["conversation_ids"] == [conversation_id]
    actions = [a["action"] for a in document["audit"]]
    assert actions == ["edit", "edit", "view", "export"]

    api = web.client.get(
        f"/api/v1/contacts/{contact_id}/export", headers=bearer(web.world, Role.MANAGER)
    )
    assert api.status_code == 200 and api.headers["cache-control"] == "no-store"
    refused = web.client.get(
        f"/api/v1/contacts/{contact_id}/export", headers=bearer(web.world, Role.AGENT)
    )
    assert refused.status_code == 403 and "manager" in refused.json()["error"]
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        exports = session.scalars(select(AuditLog.id).where(AuditLog.action == "export")).all()
    assert len(exports) == 2


def test_the_api_erases_with_a_confirmation_and_clear_errors(web: Web) -> None:
    contact_id, _, _ = personal_world(web.world)
    admin = bearer(web.world, Role.ADMIN)
    url = f"/api/v1/contacts/{contact_id}/erase"
    missing = web.client.post(url, json={"confirm": "no"}, headers=admin)
    assert missing.status_code == 400 and "ERASE" in missing.json()["error"]
    manager = web.client.post(
        url, json={"confirm": "ERASE"}, headers=bearer(web.world, Role.MANAGER)
    )
    assert manager.status_code == 403
    done = web.client.post(url, json={"confirm": "ERASE"}, headers=admin)
    assert done.status_code == 200 and done.json()["identities"] == 1
    again = web.client.post(url, json={"confirm": "ERASE"}, headers=admin)
    assert again.status_code == 409 and "already erased" in again.json()["error"]
    assert (
        web.client.post(
            "/api/v1/contacts/999999/erase", json={"confirm": "ERASE"}, headers=admin
        ).status_code
        == 404
    )


def _file_on_first_message(world: World, conversation_id: int) -> bytes:
    content = b"%PDF-1.4 the customer's ID card"
    with workspace_session(world.db, world.workspace_id) as session:
        first = session.scalars(
            select(Message.id).where(Message.conversation_id == conversation_id).limit(1)
        ).one()
        session.add(
            MediaFile(
                message_id=first,
                origin="inbound",
                sha256=hashlib.sha256(content).hexdigest(),
                mime_type="application/pdf",
                size=len(content),
                file_name="zawadi-id.pdf",
                content=content,
                created_at=NOW,
            )
        )
        session.commit()
    return content


def test_export_carries_the_files_and_erasure_deletes_them_and_stops_waiting_sends(
    world: World,
) -> None:
    contact_id, conversation_id, _ = personal_world(world)
    content = _file_on_first_message(world, conversation_id)
    with workspace_session(world.db, world.workspace_id) as session:
        document = export_contact(session, world.principal("manager"), contact_id, NOW)
        session.commit()
    (exported,) = document["files"]
    assert exported["file_name"] == "zawadi-id.pdf"
    assert base64.b64decode(exported["content_base64"]) == content

    with workspace_session(world.db, world.workspace_id) as session:
        erasure = erase_contact(session, world.principal("boss"), contact_id, "ERASE", NOW)
        session.commit()
    assert erasure.files == 1 and erasure.sends_cancelled == 1
    with workspace_session(world.db, world.workspace_id) as session:
        assert session.scalars(select(MediaFile.id)).all() == []
        (send,) = session.scalars(
            select(OutboxRow).where(OutboxRow.conversation_id == conversation_id)
        ).all()
        assert send.state == "dead" and send.last_error == "the contact was erased"
