"""Applying stored WhatsApp items to the customer record (issue 4, item 3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.payloads import (
    Business,
    error_object,
    message_webhook,
    status_webhook,
)
from engine.conversations.threads import lock_conversation
from engine.db import workspace_session
from engine.models import (
    Contact,
    Conversation,
    Identity,
    Message,
    MessageStatusEvent,
    UnmatchedItem,
)
from tests.applying import apply_and_step

SHOP = Business("1020", "104729384756101", "254711000111")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())


def text(wamid: str, wa_id: str, body: str, at: int = EPOCH, **extra: Any) -> dict[str, Any]:
    message = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(at),
        "type": "text",
        "text": {"body": body},
    }
    message.update(extra)
    return message


def apply(db: Engine, workspace_id: int, document: dict[str, Any], now: datetime = NOW) -> None:
    with workspace_session(db, workspace_id) as session:
        for item in parse_envelope(document):
            apply_and_step(session, item, now)
        session.commit()


def receive(
    db: Engine, ws: int, wamid: str, wa_id: str, body: str, name: str = "Achieng", **kw: Any
) -> None:
    apply(db, ws, message_webhook(SHOP, wa_id, name, text(wamid, wa_id, body, **kw)))


def test_a_first_message_creates_contact_conversation_and_message(
    db: Engine, workspace_id: int
) -> None:
    receive(db, workspace_id, "wamid.A1", "254722000001", "Bei ya TV ni ngapi?")
    with workspace_session(db, workspace_id) as session:
        contact = session.scalars(select(Contact)).one()
        conversation = session.scalars(select(Conversation)).one()
        message = session.scalars(select(Message)).one()
        identity = session.scalars(select(Identity)).one()
    assert (contact.name, contact.profile_name) == ("Achieng", "Achieng")
    assert (identity.channel, identity.address) == ("whatsapp", "+254722000001")
    assert conversation.business_number == "+254711000111"
    assert (conversation.status, conversation.waiting_on) == ("waiting_on_us", "us")
    assert conversation.last_customer_message_at == NOW
    assert (message.direction, message.type, message.body) == (
        "inbound",
        "text",
        "Bei ya TV ni ngapi?",
    )
    assert message.author_contact_id == contact.id


def test_more_messages_join_the_open_conversation_once_each(db: Engine, workspace_id: int) -> None:
    receive(db, workspace_id, "wamid.B1", "254722000002", "Hello")
    receive(db, workspace_id, "wamid.B2", "254722000002", "Are you open today?", at=EPOCH + 60)
    receive(db, workspace_id, "wamid.B2", "254722000002", "Are you open today?", at=EPOCH + 60)
    with workspace_session(db, workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_an_older_message_arriving_late_does_not_move_the_window_back(
    db: Engine, workspace_id: int
) -> None:
    receive(db, workspace_id, "wamid.C2", "254722000003", "second", at=EPOCH + 120)
    receive(db, workspace_id, "wamid.C1", "254722000003", "first", at=EPOCH)
    with workspace_session(db, workspace_id) as session:
        conversation = session.scalars(select(Conversation)).one()
        ordered = session.scalars(
            select(Message.body).order_by(Message.provider_timestamp, Message.id)
        ).all()
    assert conversation.last_customer_message_at == NOW + timedelta(seconds=120)
    assert ordered == ["first", "second"]


def test_brazilian_number_forms_are_one_contact(db: Engine, workspace_id: int) -> None:
    receive(db, workspace_id, "wamid.D1", "5511987654321", "Oi")  # with the ninth digit
    receive(db, workspace_id, "wamid.D2", "551187654321", "Tudo bem?")  # without it
    with workspace_session(db, workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_mexican_and_argentine_number_forms_are_one_contact_each(
    db: Engine, workspace_id: int
) -> None:
    # WhatsApp still reports many Mexican mobiles in the old 52 1 form, one digit
    # longer than today's numbering plan allows: a customer all the same.
    receive(db, workspace_id, "wamid.M1", "5215512345678", "Hola")
    receive(db, workspace_id, "wamid.M2", "525512345678", "¿Tienen la TV?")
    receive(db, workspace_id, "wamid.A1", "5491123456789", "Hola, che")
    receive(db, workspace_id, "wamid.A2", "541123456789", "¿Precio?")
    with workspace_session(db, workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2
        assert session.scalar(select(func.count()).select_from(Conversation)) == 2
        assert session.scalar(select(func.count()).select_from(Message)) == 4


def test_a_number_change_keeps_the_contact_and_its_history(db: Engine, workspace_id: int) -> None:
    receive(db, workspace_id, "wamid.E1", "254722000005", "Habari")
    change = {
        "from": "254722000005",
        "id": "wamid.E2",
        "timestamp": str(EPOCH + 60),
        "type": "system",
        "system": {
            "body": "User A changed from 254722000005 to 254733000005",
            "wa_id": "254733000005",
            "type": "user_changed_number",
        },
    }
    apply(db, workspace_id, message_webhook(SHOP, "254722000005", "", change, with_contact=False))
    receive(db, workspace_id, "wamid.E3", "254733000005", "New number, same me")
    with workspace_session(db, workspace_id) as session:
        contact = session.scalars(select(Contact)).one()
        identities = session.scalars(select(Identity).order_by(Identity.id)).all()
        messages = session.scalars(select(Message)).all()
    assert [(i.address, i.is_current) for i in identities] == [
        ("+254722000005", False),
        ("+254733000005", True),
    ]
    assert {m.author_contact_id for m in messages} == {contact.id}


def outbound(db: Engine, workspace_id: int, wamid: str) -> int:
    receive(db, workspace_id, f"{wamid}-in", "254722000006", "Please send the quote")
    with workspace_session(db, workspace_id) as session:
        conversation = session.scalars(select(Conversation)).one()
        message = Message(
            conversation_id=conversation.id,
            direction="outbound",
            type="text",
            body="Quote attached",
            provider_message_id=wamid,
            author_kind="teammate",
            delivery_state="accepted",
        )
        session.add(message)
        session.commit()
        return message.id


def status(
    wamid: str, state: str, at: int, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return status_webhook(
        SHOP,
        wamid=wamid,
        status=state,
        recipient="254722000006",
        timestamp=at,
        callback_data=None,
        category="service",
        errors=errors,
    )


def test_statuses_only_move_up_and_every_raw_status_is_kept(db: Engine, workspace_id: int) -> None:
    message_id = outbound(db, workspace_id, "wamid.F1")
    for state, at in [("sent", 1), ("read", 3), ("delivered", 2), ("sent", 4)]:
        apply(db, workspace_id, status("wamid.F1", state, EPOCH + at))
    with workspace_session(db, workspace_id) as session:
        message = session.get(Message, message_id)
        kept = session.scalars(
            select(MessageStatusEvent.status).order_by(MessageStatusEvent.id)
        ).all()
    assert message is not None and message.delivery_state == "read"
    assert kept == ["sent", "read", "delivered", "sent"]


def test_failed_after_sent_is_shown_with_the_provider_code(db: Engine, workspace_id: int) -> None:
    message_id = outbound(db, workspace_id, "wamid.G1")
    apply(db, workspace_id, status("wamid.G1", "sent", EPOCH + 1))
    failure = error_object(131047, "Re-engagement message", "More than 24 hours have passed")
    apply(db, workspace_id, status("wamid.G1", "failed", EPOCH + 2, [failure]))
    apply(db, workspace_id, status("wamid.G1", "delivered", EPOCH + 3))
    with workspace_session(db, workspace_id) as session:
        message = session.get(Message, message_id)
    assert message is not None
    assert (message.delivery_state, message.failure_code) == ("failed", "131047")


def test_a_status_before_its_message_is_kept_not_lost(db: Engine, workspace_id: int) -> None:
    apply(db, workspace_id, status("wamid.unknown", "delivered", EPOCH))
    with workspace_session(db, workspace_id) as session:
        kept = session.scalars(select(UnmatchedItem)).one()
    assert (kept.kind, kept.target_provider_message_id, kept.state) == (
        "status",
        "wamid.unknown",
        "waiting",
    )


def test_simultaneous_first_messages_open_one_conversation(db: Engine, workspace_id: int) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def first_message(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            receive(db, workspace_id, f"wamid.H{n}", "254722000008", f"hello {n}", at=EPOCH + n)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=first_message, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with workspace_session(db, workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 4


def test_a_status_waiting_for_the_conversation_lock_does_not_undo_a_higher_one(
    db: Engine, workspace_id: int
) -> None:
    """Found by the soak (bench/soak.py): two workers apply `read` and `delivered` of one
    message at once. The one that waited for the conversation's lock must judge against
    the state the other committed, not the one it read before waiting."""
    message_id = outbound(db, workspace_id, "wamid.R1")
    apply(db, workspace_id, status("wamid.R1", "sent", EPOCH + 1))
    holder = workspace_session(db, workspace_id)
    with holder as first:
        message = first.get(Message, message_id)
        assert message is not None
        lock_conversation(first, message.conversation)  # as applying `read` would
        message.delivery_state = "read"
        first.flush()
        late = threading.Thread(
            target=apply, args=(db, workspace_id, status("wamid.R1", "delivered", EPOCH + 2))
        )
        late.start()
        late.join(timeout=1.5)  # on PostgreSQL it now waits for the lock, message read
        first.commit()
    late.join(timeout=30)
    assert not late.is_alive()
    with workspace_session(db, workspace_id) as session:
        shown = session.get(Message, message_id)
    assert shown is not None and shown.delivery_state == "read"
