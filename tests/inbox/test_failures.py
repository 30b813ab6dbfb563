"""Failures are listed with the provider's code and meaning, and can be retried (issue 4)."""

from __future__ import annotations

from sqlalchemy import select, text

from engine.auth import Role
from engine.db import workspace_session
from engine.inbox.failures import FAILED_SEND
from engine.models import InboundEvent, Message, OutboxRow
from engine.whatsapp.media import DOWNLOAD_KIND
from tests.conftest import BACKEND
from tests.inbox.seed import NOW, World
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def seed_failures(web: Web) -> tuple[int, int]:
    conversation = web.world.conversation("Otieno", owner="agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        message = Message(
            conversation_id=conversation,
            direction="outbound",
            type="text",
            body="Your order ships today",
            author_kind="teammate",
            delivery_state="failed",
            failure_code="131026",
            provider_timestamp=NOW,
        )
        session.add(message)
        session.flush()
        session.add(
            OutboxRow(
                kind="whatsapp.send",
                payload={"message_id": message.id, "type": "text", "body": message.body},
                idempotency_key=f"message:{message.id}",
                state="failed",
                conversation_id=conversation,
            )
        )
        event = InboundEvent(
            provider="whatsapp",
            dedup_key="whatsapp:message:wamid.broken",
            payload={"object": "whatsapp_business_account", "entry": []},
            signature_ok=True,
            state="failed",
            attempts=5,
            last_error="ValueError: message without a sender wa_id",
            received_at=NOW,
        )
        session.add(event)
        session.commit()
        return message.id, event.id


def test_a_manager_sees_failures_with_their_meaning_and_retries_them(web: Web) -> None:
    message_id, event_id = seed_failures(web)
    web.sign_in("manager")
    page = web.client.get("/failures").text
    assert "Your order ships today" in page and "131026" in page
    assert "message without a sender wa_id" in page

    headers = bearer(web.world, Role.MANAGER)
    listed = web.client.get("/api/v1/failures", headers=headers).json()
    [send] = [s for s in listed["sends"] if s["message_id"] == message_id]
    assert send["code"] == "131026" and "undeliverable" in send["meaning"].lower()
    assert [e["event_id"] for e in listed["events"]] == [event_id]

    assert (
        web.client.post(f"/api/v1/messages/{message_id}/retry", headers=headers).status_code == 200
    )
    assert web.client.post(f"/api/v1/events/{event_id}/retry", headers=headers).status_code == 200
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        message = session.get(Message, message_id)
        row = session.scalars(select(OutboxRow)).one()
        event = session.get(InboundEvent, event_id)
        assert message is not None and message.delivery_state == "queued"
        assert row.state == "queued"
        assert event is not None and (event.state, event.attempts) == ("received", 0)
    assert web.client.get("/api/v1/failures", headers=headers).json() == {
        "sends": [],
        "events": [],
        "downloads": [],
    }


def test_agents_do_not_get_the_failures_list(web: Web) -> None:
    seed_failures(web)
    web.sign_in("agent")
    assert web.client.get("/failures").status_code == 403
    headers = bearer(web.world, Role.AGENT)
    assert web.client.get("/api/v1/failures", headers=headers).status_code == 403


if BACKEND == "postgres":

    def test_failed_sends_are_found_through_their_partial_index(world: World) -> None:
        """The failures page must not read every message: its predicate has to stay
        the one ix_messages_failed_sends indexes."""
        statement = (
            select(Message.id)
            .where(Message.workspace_id == world.workspace_id, FAILED_SEND)
            .order_by(Message.id.desc())
            .limit(50)
        )
        sql = statement.compile(world.db, compile_kwargs={"literal_binds": True})
        with world.db.connect() as connection, connection.begin():
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
        assert "ix_messages_failed_sends" in plan, plan


def test_a_file_kazi_gave_up_fetching_is_fetched_again_from_the_page_or_the_api(
    web: Web,
) -> None:
    conversation = web.world.conversation("Photo Sender", texts=("see photo",))
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        message_id = session.scalars(
            select(Message.id).where(Message.conversation_id == conversation)
        ).one()
        session.add(
            OutboxRow(
                kind=DOWNLOAD_KIND,
                payload={"message_id": message_id, "media_id": "m-gone"},
                idempotency_key=f"download:{message_id}",
                conversation_id=conversation,
                state="failed",
                attempts=6,
                last_error="HTTP 404 from WhatsApp",
            )
        )
        session.commit()
    web.sign_in("manager")
    page = web.client.get("/failures").text
    assert "HTTP 404 from WhatsApp" in page
    assert f'action="/failures/downloads/{message_id}/retry"' in page
    again = web.post(f"/failures/downloads/{message_id}/retry")
    assert again.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.kind == DOWNLOAD_KIND)).one()
        assert (row.state, row.attempts, row.last_error) == ("queued", 0, None)
    headers = bearer(web.world, Role.MANAGER)
    # Queued again, it is no longer a failure to retry.
    missing = web.client.post(f"/api/v1/downloads/{message_id}/retry", headers=headers)
    assert missing.status_code == 404 and "no failed download" in missing.json()["error"]
    agent = bearer(web.world, Role.AGENT)
    assert (
        web.client.post(f"/api/v1/downloads/{message_id}/retry", headers=agent).status_code == 403
    )


def test_a_customers_expired_file_says_so_on_the_message_and_an_agent_fetches_it_again(
    web: Web,
) -> None:
    conversation = web.world.conversation("Photo Sender", texts=("see photo",), owner="agent")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        message = session.scalars(
            select(Message).where(Message.conversation_id == conversation)
        ).one()
        message.type, message.media = "image", {"media_id": "m-gone", "mime_type": "image/jpeg"}
        session.add(
            OutboxRow(
                kind=DOWNLOAD_KIND,
                payload={"message_id": message.id, "media_id": "m-gone"},
                idempotency_key=f"media:{message.id}",
                conversation_id=conversation,
                state="failed",
                attempts=1,
                last_error="not_found: WhatsApp no longer has this file",
            )
        )
        message_id = message.id
        session.commit()
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Expired: WhatsApp no longer has this file" in page
    assert "Fetching the file from WhatsApp" not in page
    assert f'action="/inbox/messages/{message_id}/fetch"' in page
    again = web.post(f"/inbox/messages/{message_id}/fetch")
    assert again.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.kind == DOWNLOAD_KIND)).one()
        assert (row.state, row.attempts) == ("queued", 0)
    assert "Fetching the file from WhatsApp" in web.client.get(f"/inbox/c/{conversation}").text


def test_only_an_admin_has_the_template_sync_button(web: Web) -> None:
    web.sign_in("manager")
    assert "Sync templates with Meta" not in web.client.get("/failures").text
    assert web.post("/failures/templates/sync").status_code == 403
    web.client.cookies.clear()
    web.sign_in("boss")
    assert "Sync templates with Meta" in web.client.get("/failures").text
    answer = web.post("/failures/templates/sync")
    # No access token in this test's environment: the admin reads why, not a traceback.
    assert answer.status_code == 200
    assert "the WhatsApp access token is not set" in answer.text
