"""Issue 15: system messages (§5.10) change identities and show on the conversation,
never as a customer's message; a username-only sender is kept for the admin."""

from __future__ import annotations

from typing import Any

from connectors.whatsapp.simulator.payloads import message_webhook
from engine.models import AuditLog, Contact, Identity, Message, RuleFiring
from tests.whatsapp_engine.shapes import EPOCH, SHOP, Shop, shop

__all__ = ["shop"]

OLD, NEW = "254722000005", "254733000005"


def system(kind: str, body: str, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "from": OLD,
        "id": f"wamid.sys-{kind}-{at}",
        "timestamp": str(at),
        "type": "system",
        "system": {"body": body, "type": kind, **extra},
    }


def test_a_number_change_moves_the_identity_and_shows_without_a_message(shop: Shop) -> None:
    shop.says("wamid.s1", OLD, "Habari, bei ya TV ni ngapi?")
    fired = len(shop.rows(RuleFiring))
    change = system(
        "user_changed_number", f"User A changed from {OLD} to {NEW}", EPOCH + 60, wa_id=NEW
    )
    [*_, event] = shop.deliver(message_webhook(SHOP, OLD, "", change, with_contact=False))
    assert (event.state, event.last_error) == ("processed", None)
    assert [(i.address, i.is_current) for i in shop.rows(Identity)] == [
        ("+254722000005", False),
        ("+254733000005", True),
    ]
    assert len(shop.rows(Message)) == 1 and len(shop.rows(RuleFiring)) == fired
    [shown] = shop.rows(AuditLog, AuditLog.action == "whatsapp_system")
    assert shown.detail["text"] == f"User A changed from {OLD} to {NEW}"
    shop.says("wamid.s2", NEW, "Ni mimi, namba mpya")
    assert len(shop.rows(Contact)) == 1


def test_an_identity_change_is_shown_and_makes_no_message(shop: Shop) -> None:
    shop.says("wamid.s3", OLD, "Habari")
    change = system("customer_identity_changed", "User A's security code changed.", EPOCH + 60)
    change["identity"] = {"acknowledged": True, "created_timestamp": EPOCH, "hash": "abc"}
    shop.deliver(message_webhook(SHOP, OLD, "", change, with_contact=False))
    assert len(shop.rows(Message)) == 1
    [shown] = shop.rows(AuditLog, AuditLog.action == "whatsapp_system")
    assert shown.detail["type"] == "customer_identity_changed"


def test_a_username_only_sender_is_kept_and_flagged_with_the_bsuid(shop: Shop) -> None:
    message = {
        "from_user_id": "US.13491208655302741918",
        "id": "wamid.bsuid-1",
        "timestamp": str(EPOCH),
        "type": "text",
        "text": {"body": "Hi"},
    }
    body = message_webhook(SHOP, "", "Sheena", message)
    body["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Sheena"}, "user_id": "US.13491208655302741918"}
    ]
    [event] = shop.deliver(body)
    assert event.state == "flagged"
    assert "US.13491208655302741918" in (event.last_error or "")
    assert shop.rows(Message) == []
