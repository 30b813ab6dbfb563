"""Sending through the outbox (issue 4, item 4): states, retries, the window, unknowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.payloads import Business, message_webhook, status_webhook
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.models import Conversation, Message, OutboxRow
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import (
    OutsideWindow,
    queue_buttons,
    queue_media,
    queue_read_receipt,
    queue_template,
    queue_text,
    retry_failed_message,
)
from engine.whatsapp.outbound import READ_KIND, SEND_KIND, make_read_executor, make_send_executor
from tests.applying import apply_and_step

SHOP = Business("1020", "104729384756101", "254711000111")
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def customer_writes(db: Engine, workspace_id: int, wa_id: str, at: datetime) -> int:
    document = message_webhook(
        SHOP,
        wa_id,
        "Mutua",
        {
            "from": wa_id,
            "id": f"wamid.in-{wa_id}-{at.timestamp()}",
            "type": "text",
            "timestamp": str(int(at.timestamp())),
            "text": {"body": "Niaje"},
        },
    )
    with workspace_session(db, workspace_id) as session:
        for item in parse_envelope(document):
            apply_and_step(session, item, at)
        session.commit()
        conversation = session.scalars(select(Conversation)).one()
        return conversation.id


class Harness:
    def __init__(self, db: Engine, workspace_id: int) -> None:
        self.db, self.workspace_id = db, workspace_id
        self.clock = FrozenClock(START)
        self.sender = FakeSender(clock=self.clock)
        self.executors = {SEND_KIND: make_send_executor(lambda ws, number: self.sender)}

    def run_row(self, message_id: int) -> OutboxRow:
        row_id = self.row(message_id).id
        dispatch_outbox_row(row_id=row_id, db=self.db, clock=self.clock, executors=self.executors)
        return self.row(message_id)

    def row(self, message_id: int) -> OutboxRow:
        with workspace_session(self.db, self.workspace_id) as session:
            return session.scalars(
                select(OutboxRow).where(OutboxRow.idempotency_key == f"message:{message_id}")
            ).one()

    def message(self, message_id: int) -> Message:
        with workspace_session(self.db, self.workspace_id) as session:
            message = session.get(Message, message_id)
            assert message is not None
            return message

    def text(self, conversation_id: int, body: str) -> int:
        with workspace_session(self.db, self.workspace_id) as session:
            message = queue_text(
                session,
                conversation_id=conversation_id,
                body=body,
                author_teammate_id=None,
                now=self.clock.now(),
            )
            session.commit()
            return message.id

    def status(self, wamid: str, state: str, callback: str | None = None, **extra: Any) -> None:
        document = status_webhook(
            SHOP,
            wamid=wamid,
            status=state,
            recipient="254722000100",
            timestamp=int(self.clock.now().timestamp()),
            callback_data=callback,
            category="service",
            **extra,
        )
        with workspace_session(self.db, self.workspace_id) as session:
            for item in parse_envelope(document):
                apply_and_step(session, item, self.clock.now())
            session.commit()


@pytest.fixture()
def harness(db: Engine, workspace_id: int) -> Harness:
    return Harness(db, workspace_id)


def test_a_reply_is_queued_then_sent_once_with_its_key(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000100", START)
    message_id = harness.text(conversation_id, "Karibu! Tuko wazi hadi saa kumi na mbili.")
    assert harness.message(message_id).delivery_state == "queued"
    assert harness.run_row(message_id).state == "done"
    assert harness.run_row(message_id).state == "done"  # a re-run job sends nothing more
    [send] = harness.sender.sent
    assert send.idempotency_key == f"message:{message_id}"
    assert send.body["to"] == "254722000100"
    message = harness.message(message_id)
    assert message.delivery_state == "accepted"
    assert message.provider_message_id == "wamid.FAKE0000000001"


def test_a_rate_limited_send_is_retried_later_and_then_sent(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000101", START)
    message_id = harness.text(conversation_id, "Quote coming")
    harness.sender.fail_next(130429, http_status=429)
    row = harness.run_row(message_id)
    assert row.state == "queued" and row.next_attempt_at is not None
    assert row.next_attempt_at > START and "130429" in (row.last_error or "")
    assert harness.message(message_id).delivery_state == "queued"
    harness.clock.advance(timedelta(minutes=1))
    assert harness.run_row(message_id).state == "done"
    assert harness.message(message_id).delivery_state == "accepted"


def test_a_permanent_failure_is_shown_and_only_a_retry_leaves_it(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000102", START)
    message_id = harness.text(conversation_id, "Hello")
    harness.sender.fail_next(131026)  # message undeliverable
    assert harness.run_row(message_id).state == "failed"
    message = harness.message(message_id)
    assert (message.delivery_state, message.failure_code) == ("failed", "131026")
    with workspace_session(harness.db, harness.workspace_id) as session:
        retry_failed_message(session, message_id, harness.clock.now())
        session.commit()
    assert harness.run_row(message_id).state == "done"
    assert len(harness.sender.sent) == 2


def test_free_text_after_the_window_is_refused_and_a_template_is_not(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000103", START)
    harness.clock.advance(timedelta(hours=25))
    with pytest.raises(OutsideWindow):
        harness.text(conversation_id, "Are you still interested?")
    with workspace_session(harness.db, harness.workspace_id) as session:
        message = queue_template(
            session,
            conversation_id=conversation_id,
            template_name="quote_follow_up",
            language="en",
            parameters=["Mutua", "KES 54,999"],
            author_teammate_id=None,
            now=harness.clock.now(),
        )
        session.commit()
    assert harness.run_row(message.id).state == "done"
    assert harness.sender.sent[0].body["type"] == "template"


def test_a_queued_reply_whose_window_closed_before_sending_is_not_sent(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000104", START)
    harness.clock.advance(timedelta(hours=23, minutes=59))
    message_id = harness.text(conversation_id, "Sorry for the delay")
    harness.clock.advance(timedelta(minutes=5))  # the worker got to it too late
    assert harness.run_row(message_id).state == "failed"
    assert harness.sender.sent == []
    assert harness.message(message_id).failure_code == "131047"


def test_an_unknown_outcome_is_not_resent_and_the_status_callback_reconciles_it(
    harness: Harness,
) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000105", START)
    message_id = harness.text(conversation_id, "Your order is on its way")
    harness.sender.time_out_next()
    assert harness.run_row(message_id).state == "failed"
    assert harness.message(message_id).failure_code == "unknown"
    harness.status("wamid.late-answer", "delivered", callback=f"message:{message_id}")
    message = harness.message(message_id)
    assert (message.provider_message_id, message.delivery_state) == (
        "wamid.late-answer",
        "delivered",
    )
    assert message.failure_code is None
    assert harness.row(message_id).state == "done"
    assert len(harness.sender.sent) == 1


def test_staff_may_decide_to_send_again_a_message_whose_outcome_is_unknown(
    harness: Harness,
) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000106", START)
    message_id = harness.text(conversation_id, "Tracking number: KE123")
    harness.sender.time_out_next()
    assert harness.run_row(message_id).state == "failed"
    with workspace_session(harness.db, harness.workspace_id) as session:
        retry_failed_message(session, message_id, harness.clock.now())
        session.commit()
    assert harness.run_row(message_id).state == "done"
    assert len(harness.sender.sent) == 2  # the person chose to risk a second copy
    assert harness.message(message_id).delivery_state == "accepted"


def test_media_and_reply_buttons_go_out_through_the_outbox(harness: Harness) -> None:
    conversation_id = customer_writes(harness.db, harness.workspace_id, "254722000107", START)
    with workspace_session(harness.db, harness.workspace_id) as session:
        photo = queue_media(
            session,
            conversation_id=conversation_id,
            kind="image",
            link="https://shop.example/tv-55.jpg",
            caption="The 55-inch TV",
            author_teammate_id=None,
            now=harness.clock.now(),
        )
        choice = queue_buttons(
            session,
            conversation_id=conversation_id,
            body="Deliver today?",
            buttons=[("yes", "Yes please"), ("later", "Tomorrow")],
            author_teammate_id=None,
            now=harness.clock.now(),
        )
        session.commit()
    assert harness.run_row(photo.id).state == "done"
    assert harness.run_row(choice.id).state == "done"
    image, buttons = (sent.body for sent in harness.sender.sent)
    assert (image["type"], image["image"]["link"]) == ("image", "https://shop.example/tv-55.jpg")
    assert buttons["type"] == "interactive"
    titles = [b["reply"]["title"] for b in buttons["interactive"]["action"]["buttons"]]
    assert titles == ["Yes please", "Tomorrow"]


def test_a_read_receipt_goes_out_once(harness: Harness) -> None:
    customer_writes(harness.db, harness.workspace_id, "254722000108", START)
    with workspace_session(harness.db, harness.workspace_id) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).one()
        queue_read_receipt(session, message=inbound, now=harness.clock.now())
        session.commit()
        row = session.scalars(select(OutboxRow).where(OutboxRow.kind == READ_KIND)).one()
        row_id, wamid = row.id, inbound.provider_message_id
    executors = {READ_KIND: make_read_executor(lambda ws, number: harness.sender)}
    for _ in range(2):
        dispatch_outbox_row(row_id=row_id, db=harness.db, clock=harness.clock, executors=executors)
    [receipt] = harness.sender.sent
    assert receipt.body == {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
