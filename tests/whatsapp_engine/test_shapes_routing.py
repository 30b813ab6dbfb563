"""Issue 15: an item must be for one of the workspace's numbers; dashboard samples are
tests; a status before its message waits for it. Through the route and the worker."""

from __future__ import annotations

from sqlalchemy import select

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.simulator.payloads import (
    TEST_SAMPLE_WAMID,
    Business,
    dashboard_sample_webhook,
    message_webhook,
    status_webhook,
)
from engine.db import workspace_session
from engine.models import (
    Contact,
    Conversation,
    Identity,
    Message,
    MessageStatusEvent,
    OutboxRow,
    UnmatchedItem,
)
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import queue_text
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from engine.whatsapp.unmatched import ORPHAN_AFTER
from tests.whatsapp_engine.shapes import EPOCH, NOW, SHOP, Shop, shop

__all__ = ["shop"]

STRANGER = Business("102290129340398", "999000111222333", "254799999999")


def test_a_message_on_a_number_the_workspace_does_not_own_is_flagged_and_creates_nothing(
    shop: Shop,
) -> None:
    message = {
        "from": "254722000001",
        "id": "wamid.stranger-1",
        "timestamp": str(EPOCH),
        "type": "text",
        "text": {"body": "Habari"},
    }
    [event] = shop.deliver(message_webhook(STRANGER, "254722000001", "Achieng", message))
    assert event.state == "flagged"
    assert "999000111222333" in (event.last_error or "")
    assert "not one of this workspace's numbers" in (event.last_error or "")
    assert shop.rows(Contact) == [] and shop.rows(Conversation) == []
    assert shop.rows(Message) == []


def test_a_message_on_the_workspaces_number_uses_the_configured_number(shop: Shop) -> None:
    # The payload's display number is not trusted: the conversation is on the number the
    # config gives for the phone_number_id.
    wrong_display = Business(SHOP.waba_id, SHOP.phone_number_id, "15550000000")
    message = {
        "from": "254722000001",
        "id": "wamid.own-1",
        "timestamp": str(EPOCH),
        "type": "text",
        "text": {"body": "Habari"},
    }
    [event] = shop.deliver(message_webhook(wrong_display, "254722000001", "Achieng", message))
    assert (event.state, event.last_error) == ("processed", None)
    [conversation] = shop.rows(Conversation)
    assert conversation.business_number == "+254711502300"


def test_a_dashboard_test_sample_is_kept_as_a_test_and_makes_no_customer(shop: Shop) -> None:
    [event] = shop.deliver(dashboard_sample_webhook())
    assert event.state == "flagged"
    assert "test sample" in (event.last_error or "")
    assert TEST_SAMPLE_WAMID in event.dedup_key
    assert shop.rows(Contact) == [] and shop.rows(Conversation) == []


def status(wamid: str, state: str, at: int) -> dict[str, object]:
    return status_webhook(
        SHOP,
        wamid=wamid,
        status=state,
        recipient="254722000001",
        timestamp=at,
        callback_data=None,
        category="service",
    )


def test_a_status_before_the_sends_answer_waits_and_is_applied_when_it_comes(
    shop: Shop,
) -> None:
    shop.says("wamid.in-1", "254722000001", "Nitumie bei tafadhali")
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        message = queue_text(
            session,
            conversation_id=conversation.id,
            body="KES 45,000",
            author_teammate_id=None,
            now=NOW,
        )
        session.commit()
        message_id = message.id
    sender = FakeSender(clock=shop.runtime.clock)
    wamid = "wamid.FAKE0000000001"  # what the fake sender will answer with
    events = shop.deliver(status(wamid, "delivered", EPOCH + 5))
    assert [e.state for e in events] == ["processed", "processed"]  # no failure, no retry
    assert [e.last_error for e in events] == [None, None]
    [waiting] = shop.rows(UnmatchedItem)
    assert (waiting.kind, waiting.summary, waiting.state) == ("status", "delivered", "waiting")
    row = shop.rows(OutboxRow, OutboxRow.idempotency_key == f"message:{message_id}")[0]
    executors = {SEND_KIND: make_send_executor(lambda ws, number: sender)}
    dispatch_outbox_row(row_id=row.id, db=shop.db, clock=shop.runtime.clock, executors=executors)
    [sent] = shop.rows(Message, Message.id == message_id)
    assert (sent.provider_message_id, sent.delivery_state) == (wamid, "delivered")
    assert [s.status for s in shop.rows(MessageStatusEvent)] == ["delivered"]
    assert shop.rows(UnmatchedItem)[0].state == "applied"


def test_a_status_for_a_message_never_sent_here_becomes_an_orphan(shop: Shop) -> None:
    shop.deliver(status("wamid.other-app", "read", EPOCH))
    shop.runtime.clock.advance(ORPHAN_AFTER * 2)  # type: ignore[attr-defined]
    events = shop.deliver(status("wamid.other-app-2", "sent", EPOCH + 60))
    assert {e.state for e in events} == {"processed"}
    states = {i.target_provider_message_id: i.state for i in shop.rows(UnmatchedItem)}
    assert states == {"wamid.other-app": "orphaned", "wamid.other-app-2": "waiting"}
    with workspace_session(shop.db, shop.workspace_id) as session:
        assert session.scalars(select(Message)).all() == []


def test_a_played_voice_note_counts_as_read_and_every_status_value_is_kept(shop: Shop) -> None:
    shop.says("wamid.in-2", "254722000001", "Tuma voice note")
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="outbound",
                type="audio",
                provider_message_id="wamid.voice",
                author_kind="teammate",
                delivery_state="accepted",
            )
        )
        session.commit()
    for state, at in [("delivered", 1), ("played", 2), ("deleted", 3)]:
        [*_, event] = shop.deliver(status("wamid.voice", state, EPOCH + at))
        assert (event.state, event.last_error) == ("processed", None)
    [voice] = shop.rows(Message, Message.provider_message_id == "wamid.voice")
    assert voice.delivery_state == "read"
    kept = [s.status for s in shop.rows(MessageStatusEvent)]
    assert kept == ["delivered", "played", "deleted"]


def test_a_number_reported_in_another_form_joins_the_contact_and_replies_go_to_it(
    shop: Shop,
) -> None:
    # Reference §10.1: staff saved the Mexican customer as +52 55 1234 5678; WhatsApp
    # reports the wa_id 5215512345678. Both forms are on the one contact; a send goes to
    # the wa_id WhatsApp reported, never to a reformatted number.
    with workspace_session(shop.db, shop.workspace_id) as session:
        contact = Contact(name="Lupita")
        session.add(contact)
        session.flush()
        session.add(
            Identity(
                contact_id=contact.id, channel="whatsapp", address="+525512345678", valid_from=NOW
            )
        )
        session.commit()
    shop.says("wamid.mx-1", "5215512345678", "Hola", at=EPOCH + 60)
    [only] = shop.rows(Contact)
    addresses = {i.address for i in shop.rows(Identity) if i.contact_id == only.id}
    assert addresses == {"+525512345678", "+5215512345678"}
    [conversation] = shop.rows(Conversation)
    sender = FakeSender(clock=shop.runtime.clock)
    with workspace_session(shop.db, shop.workspace_id) as session:
        message = queue_text(
            session,
            conversation_id=conversation.id,
            body="Hola Lupita",
            author_teammate_id=None,
            now=NOW,
        )
        session.commit()
        key = f"message:{message.id}"
    [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == key)
    dispatch_outbox_row(
        row_id=row.id,
        db=shop.db,
        clock=shop.runtime.clock,
        executors={SEND_KIND: make_send_executor(lambda ws, number: sender)},
    )
    [sent] = sender.sent
    assert sent.message.to == "5215512345678"
    # A Brazilian number without its ninth digit joins the contact of the nine-digit one.
    shop.says("wamid.br-1", "5511987654321", "Oi", at=EPOCH + 90)
    shop.says("wamid.br-2", "551187654321", "Oi de novo", at=EPOCH + 95)
    brazil = {i.address for i in shop.rows(Identity) if i.address.startswith("+551")}
    assert brazil == {"+5511987654321", "+551187654321"}
    assert len({i.contact_id for i in shop.rows(Identity) if i.address in brazil}) == 1
