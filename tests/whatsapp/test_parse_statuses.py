"""Every status of the reference, with pricing, conversation and errors kept."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.whatsapp.events import EventFlag, StatusUpdate
from connectors.whatsapp.parse import parse_envelope, parse_webhook
from tests.whatsapp import payloads as p


def one_status(status: dict[str, Any]) -> StatusUpdate:
    (event,) = parse_webhook(p.body(p.status_webhook(status)))
    assert isinstance(event, StatusUpdate)
    return event


def test_sent_keeps_conversation_pricing_and_callback_data() -> None:
    event = one_status(p.SENT)
    assert (event.message_id, event.status, event.timestamp) == ("wamid.HBgN", "sent", 1750857384)
    assert event.dedup_key == "whatsapp:status:wamid.HBgN:sent"
    assert event.recipient_id == "5516992318222"
    assert event.callback_data == "order-123"
    assert event.conversation is not None
    assert (event.conversation.id, event.conversation.origin_type) == (
        "a75d17ad06104c51166f948319b03c6a",
        "service",
    )
    assert event.conversation.expiration_timestamp == 1750943820
    assert event.pricing is not None
    assert (event.pricing.billable, event.pricing.pricing_model, event.pricing.category) == (
        True,
        "CBP",
        "service",
    )
    assert event.raw == p.SENT
    assert not event.flagged


def test_delivered_reads_the_per_message_pricing_type() -> None:
    event = one_status(p.DELIVERED)
    assert event.pricing is not None
    assert (event.pricing.pricing_model, event.pricing.pricing_type) == (
        "PMP",
        "free_customer_service",
    )
    assert event.conversation is None


def test_read_with_an_integer_timestamp() -> None:
    event = one_status(p.READ)
    assert (event.status, event.timestamp) == ("read", 1750857400)


def test_failed_keeps_code_title_and_details() -> None:
    event = one_status(p.FAILED)
    assert event.status == "failed"
    (error,) = event.errors
    assert error.code == 131049
    assert error.title.startswith("This message was not delivered")
    assert error.details == "marketing cap"
    assert error.href is not None


@pytest.mark.parametrize("status", ["played", "deleted"])
def test_rarer_known_statuses_are_not_flagged(status: str) -> None:
    assert not one_status({**p.READ, "status": status}).flagged


def test_the_same_message_has_one_key_per_status() -> None:
    keys = {one_status(s).dedup_key for s in (p.SENT, p.DELIVERED, p.READ)}
    assert len(keys) == 3
    assert one_status(dict(p.SENT)).dedup_key == one_status(p.SENT).dedup_key


def test_unknown_status_value_is_kept_and_flagged_unknown() -> None:
    event = one_status({**p.READ, "status": "hologram_viewed"})
    assert event.flags == {EventFlag.UNKNOWN}
    assert event.status == "hologram_viewed"
    assert event.dedup_key == "whatsapp:status:wamid.HBgN:hologram_viewed"


def test_status_without_id_is_malformed_with_a_content_key() -> None:
    status = {k: v for k, v in p.SENT.items() if k != "id"}
    event = one_status(status)
    assert EventFlag.MALFORMED in event.flags
    assert event.dedup_key.startswith("whatsapp:status:sha256:")


def test_status_with_its_recipient_contact_keeps_it_in_the_envelope() -> None:
    contact = p.sender_contact("5516992318222", "Ana")
    document = p.webhook(p.entry(p.change(contacts=[contact], statuses=[p.SENT])))
    (event,) = parse_webhook(p.body(document))
    assert event.envelope["entry"][0]["changes"][0]["value"]["contacts"] == [contact]
    assert parse_envelope(event.envelope) == [event]
