"""The simulator's switches for the shapes of issue 15: reactions and their removal,
edits, revokes, business-app echoes, test samples, template statuses, out-of-band errors."""

from __future__ import annotations

import httpx

from connectors.whatsapp.events import (
    EditContent,
    InboundMessage,
    OtherChange,
    OutOfBandError,
    ReactionContent,
    RevokeContent,
    TextContent,
)
from connectors.whatsapp.simulator.script import ScriptedCustomer
from tests.whatsapp.conftest import Receiver, SimulatorFactory

CUSTOMER = "254712345600"


def post(url: str, path: str, body: dict[str, object]) -> str:
    answer = httpx.post(f"{url}{path}", json=body, timeout=10)
    answer.raise_for_status()
    return str(answer.json().get("id", ""))


def test_customer_and_business_app_shapes_arrive_as_the_reference_shows(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(customers=(ScriptedCustomer(CUSTOMER, "Amina", ()),))
    said = post(running.url, f"/_sim/customers/{CUSTOMER}/messages", {"text": "Bei gani?"})
    post(running.url, f"/_sim/customers/{CUSTOMER}/messages", {"edit": "Bei gani sasa?"})
    post(running.url, f"/_sim/customers/{CUSTOMER}/messages", {"revoke": True})
    echoed = post(running.url, f"/_sim/customers/{CUSTOMER}/echoes", {"text": "KES 45,000"})
    post(running.url, f"/_sim/customers/{CUSTOMER}/messages", {"reaction": "👍", "to": echoed})
    post(running.url, f"/_sim/customers/{CUSTOMER}/messages", {"unreact": True, "to": echoed})
    receiver.wait_for(lambda r: len(r.posts) == 6)
    events = [e for p in receiver.posts for e in p.events]
    assert all(isinstance(e, InboundMessage) and not e.flagged for e in events)
    first, edited, revoked, echo, reacted, unreacted = events
    assert isinstance(edited, InboundMessage) and isinstance(edited.content, EditContent)
    assert edited.content.original_message_id == said
    assert isinstance(revoked, InboundMessage) and isinstance(revoked.content, RevokeContent)
    assert revoked.content.original_message_id == said
    assert isinstance(echo, InboundMessage) and echo.is_echo and echo.echo_to == CUSTOMER
    assert isinstance(echo.content, TextContent) and echo.origin is not None
    assert echo.origin.field == "smb_message_echoes"
    assert isinstance(reacted, InboundMessage) and isinstance(reacted.content, ReactionContent)
    assert (reacted.content.message_id, reacted.content.emoji) == (echoed, "👍")
    assert isinstance(unreacted, InboundMessage) and isinstance(unreacted.content, ReactionContent)
    assert unreacted.content.removed and "emoji" not in unreacted.raw["reaction"]
    assert isinstance(first, InboundMessage) and first.message_id == said


def test_account_level_and_test_shapes_can_be_sent(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(customers=())
    post(running.url, "/_sim/webhooks/test-sample", {})
    post(
        running.url,
        "/_sim/webhooks/template-status",
        {"event": "PAUSED", "name": "quote_ready", "language": "en", "reason": "LOW_QUALITY"},
    )
    post(running.url, "/_sim/webhooks/error", {"code": 130429, "title": "Rate limit hit"})
    receiver.wait_for(lambda r: len(r.posts) == 3)
    sample, template, error = [e for p in receiver.posts for e in p.events]
    assert isinstance(sample, InboundMessage) and sample.origin is not None
    assert (sample.origin.waba_id, sample.origin.phone_number_id) == ("0", "123456123")
    assert isinstance(template, OtherChange)
    assert template.field_name == "message_template_status_update"
    assert template.raw["event"] == "PAUSED" and template.raw["message_template_id"] > 0
    assert isinstance(error, OutOfBandError) and error.error.code == 130429
    bad = httpx.post(f"{running.url}/_sim/webhooks/nonsense", json={}, timeout=10)
    assert bad.status_code == 400
