"""Issue 15: messages Kazi cannot read are shown, not only flagged (§5.12); template
lifecycle webhooks (§6.5) and out-of-band errors (§4) reach the admins; a paused
template is refused at send time. From the signed webhook through the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.simulator.payloads import (
    change_webhook,
    envelope,
    error_object,
    errors_webhook,
    status_webhook,
    template_status_webhook,
    unsupported,
)
from engine.db import workspace_session
from engine.models import (
    Conversation,
    Message,
    MessagingPreference,
    Notification,
    OutboxRow,
    TemplateStatus,
)
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import queue_template, queue_text
from engine.whatsapp.outbound import PAUSE, SEND_KIND, make_send_executor
from tests.whatsapp_engine.shapes import EPOCH, NOW, SHOP, Shop, shop

__all__ = ["shop"]

CUSTOMER = "254722000001"


def test_a_poll_becomes_a_visible_message_with_its_error_kept(shop: Shop) -> None:
    [event] = shop.message(unsupported("wamid.poll", CUSTOMER, EPOCH, "poll"))
    assert event.state == "processed"
    [message] = shop.rows(Message)
    assert message.type == "unsupported"
    assert message.body == "The customer sent something WhatsApp cannot show here: poll"
    assert message.failure_code == "131051"
    assert shop.rows(Conversation)[0].last_customer_message_at is not None


def test_interactive_without_its_object_is_shown_and_the_companion_error_alerts(
    shop: Shop,
) -> None:
    broken = {
        "from": CUSTOMER,
        "id": "wamid.broken",
        "timestamp": str(EPOCH),
        "type": "interactive",
    }
    body = envelope(
        SHOP,
        {
            "contacts": [{"profile": {"name": "Achieng"}, "wa_id": CUSTOMER}],
            "messages": [broken],
            "errors": [error_object(131000, "Something went wrong", "Unsupported webhook payload")],
        },
    )
    events = shop.deliver(body)
    assert [e.state for e in events] == ["processed", "processed"]
    [message] = shop.rows(Message)
    assert message.type == "unsupported"
    assert "interactive" in (message.body or "")
    alerts = [n.text for n in shop.rows(Notification)]
    assert alerts and all("131000" in text for text in alerts)


def test_an_unknown_message_type_is_stored_and_shown(shop: Shop) -> None:
    future = {
        "from": CUSTOMER,
        "id": "wamid.future",
        "timestamp": str(EPOCH),
        "type": "hologram",
        "hologram": {},
    }
    [event] = shop.message(future)
    assert event.state == "processed"
    [message] = shop.rows(Message)
    assert message.body == "The customer sent something WhatsApp cannot show here: hologram"


def test_a_request_welcome_is_shown_as_the_chat_being_opened(shop: Shop) -> None:
    shop.message(
        {
            "from": CUSTOMER,
            "id": "wamid.welcome",
            "timestamp": str(EPOCH),
            "type": "request_welcome",
        }
    )
    [message] = shop.rows(Message)
    assert message.body == "The customer opened the chat for the first time."


def test_a_rate_limit_error_alerts_the_admin_and_manager_with_its_meaning(shop: Shop) -> None:
    [event] = shop.deliver(
        errors_webhook(SHOP, [error_object(130429, "Rate limit hit", "Too many messages")])
    )
    assert (event.state, event.last_error) == ("processed", None)
    alerts = shop.rows(Notification)
    assert len(alerts) == 2  # the retail sample has one admin and one manager
    assert "130429" in alerts[0].text and "Too many messages per second" in alerts[0].text


def test_an_account_update_alerts_the_admins(shop: Shop) -> None:
    value = {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING"}],
    }
    [event] = shop.deliver(change_webhook(SHOP, "account_update", value))
    assert event.state == "processed"
    assert "ACCOUNT_RESTRICTION" in shop.rows(Notification)[0].text


def paused(name: str, language: str) -> dict[str, Any]:
    return template_status_webhook(
        SHOP,
        event="PAUSED",
        template_id=1689556908129835,
        name=name,
        language=language,
        reason="LOW_QUALITY",
    )


def test_a_paused_template_is_recorded_alerted_and_refused_at_send_time(shop: Shop) -> None:
    shop.says("wamid.t1", CUSTOMER, "Nitumie bei")
    [*_, event] = shop.deliver(paused("quote_ready", "en"))
    assert event.state == "processed"
    [template] = shop.rows(TemplateStatus)
    assert (template.name, template.language, template.status) == ("quote_ready", "en", "PAUSED")
    assert template.provider_template_id == "1689556908129835"
    assert any("quote_ready" in n.text and "PAUSED" in n.text for n in shop.rows(Notification))
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        message = queue_template(
            session,
            conversation_id=conversation.id,
            template_name="quote_ready",
            language="en",
            parameters=["Achieng", "TV", "45,000"],
            author_teammate_id=None,
            now=NOW,
        )
        session.commit()
        message_id = message.id
    sender = FakeSender(clock=shop.runtime.clock)
    [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == f"message:{message_id}")
    executors = {SEND_KIND: make_send_executor(lambda ws, number: sender)}
    dispatch_outbox_row(row_id=row.id, db=shop.db, clock=shop.runtime.clock, executors=executors)
    assert sender.sent == []
    [refused] = shop.rows(Message, Message.id == message_id)
    assert (refused.delivery_state, refused.failure_code) == ("failed", "132015")
    assert "PAUSED" in (refused.failure_detail or "")
    # Approved again: the same template goes out.
    shop.deliver(
        template_status_webhook(
            SHOP, event="APPROVED", template_id=1689556908129835, name="quote_ready", language="en"
        )
    )
    assert shop.rows(TemplateStatus)[0].status == "APPROVED"


def test_an_expired_token_on_send_alerts_the_admins_once_an_hour(shop: Shop) -> None:
    shop.says("wamid.tok1", CUSTOMER, "Habari")
    [conversation] = shop.rows(Conversation)
    sender = FakeSender(clock=shop.runtime.clock)
    sender.fail_next(190, http_status=401, times=2, title="Access token expired")
    executors = {SEND_KIND: make_send_executor(lambda ws, number: sender)}
    for body in ("Karibu", "Tuko wazi"):
        with workspace_session(shop.db, shop.workspace_id) as session:
            message = queue_text(
                session,
                conversation_id=conversation.id,
                body=body,
                author_teammate_id=None,
                now=NOW,
            )
            session.commit()
            key = f"message:{message.id}"
        [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == key)
        dispatch_outbox_row(
            row_id=row.id, db=shop.db, clock=shop.runtime.clock, executors=executors
        )
    alerts = [n.text for n in shop.rows(Notification)]
    assert len(alerts) == 2  # the admin and the manager, once each
    assert all("190" in text for text in alerts)


def test_a_marketing_stop_is_kept_from_the_webhook_and_from_131050(shop: Shop) -> None:
    shop.says("wamid.pref1", CUSTOMER, "Habari")
    choice = {
        "wa_id": CUSTOMER,
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": EPOCH + 10,
    }
    [*_, event] = shop.deliver(
        change_webhook(SHOP, "user_preferences", {"user_preferences": [choice]})
    )
    assert (event.state, event.last_error) == ("processed", None)
    [kept] = shop.rows(MessagingPreference)
    assert (kept.category, kept.value, kept.source) == (
        "marketing_messages",
        "stop",
        "user_preferences",
    )
    shop.deliver(
        change_webhook(
            SHOP,
            "user_preferences",
            {"user_preferences": [{**choice, "value": "resume", "timestamp": EPOCH + 20}]},
        )
    )
    assert shop.rows(MessagingPreference)[0].value == "resume"
    # A marketing send that fails with 131050 says the same.
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="outbound",
                type="template",
                provider_message_id="wamid.promo",
                author_kind="rule",
                delivery_state="accepted",
            )
        )
        session.commit()
    failed = status_webhook(
        SHOP,
        wamid="wamid.promo",
        status="failed",
        recipient=CUSTOMER,
        timestamp=EPOCH + 30,
        callback_data=None,
        category="marketing",
        errors=[error_object(131050, "User stopped marketing messages", "")],
    )
    shop.deliver(failed)
    [kept] = shop.rows(MessagingPreference)
    assert (kept.value, kept.source) == ("stop", "error 131050")


def _queue_and_send(shop: Shop, sender: FakeSender, body: str) -> tuple[int, str]:
    [conversation] = shop.rows(Conversation)
    with workspace_session(shop.db, shop.workspace_id) as session:
        message = queue_text(
            session, conversation_id=conversation.id, body=body, author_teammate_id=None, now=NOW
        )
        session.commit()
        message_id, key = message.id, f"message:{message.id}"
    [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == key)
    executors = {SEND_KIND: make_send_executor(lambda ws, number: sender)}
    dispatch_outbox_row(row_id=row.id, db=shop.db, clock=shop.runtime.clock, executors=executors)
    return message_id, key


def test_a_send_meeting_an_account_stop_error_is_held_and_goes_out_once_fixed(
    shop: Shop,
) -> None:
    # Reference §9: 368 (blocked for policy violations) and 190 stop every send; the
    # message waits instead of failing, and goes out after the account is fixed.
    shop.says("wamid.stop1", CUSTOMER, "Habari")
    sender = FakeSender(clock=shop.runtime.clock)
    sender.fail_next(368, title="Temporarily blocked for policies violations")
    message_id, key = _queue_and_send(shop, sender, "Karibu")
    [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == key)
    assert row.state == "queued" and row.attempts == 0
    assert row.next_attempt_at is not None and row.next_attempt_at >= NOW + PAUSE
    [message] = shop.rows(Message, Message.id == message_id)
    assert message.delivery_state == "queued" and message.failure_code == "368"
    assert any("368" in n.text for n in shop.rows(Notification))
    dispatch_outbox_row(
        row_id=row.id,
        db=shop.db,
        clock=shop.runtime.clock,
        executors={SEND_KIND: make_send_executor(lambda ws, number: sender)},
    )
    [message] = shop.rows(Message, Message.id == message_id)
    assert message.delivery_state == "accepted" and message.provider_message_id


def test_a_pair_rate_limit_waits_at_least_six_seconds(shop: Shop) -> None:
    shop.says("wamid.pair1", CUSTOMER, "Habari")
    sender = FakeSender(clock=shop.runtime.clock)
    sender.fail_next(131056, title="(Business Account, Consumer Account) pair rate limit hit")
    _, key = _queue_and_send(shop, sender, "Karibu")
    [row] = shop.rows(OutboxRow, OutboxRow.idempotency_key == key)
    assert row.state == "queued" and "131056" in (row.last_error or "")
    assert row.next_attempt_at is not None and row.next_attempt_at >= NOW + timedelta(seconds=6)
