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


BSUID = "US.13491208655302741918"


def username_message(wamid: str, at: int, wa_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from_user_id": BSUID,
        "id": wamid,
        "timestamp": str(at),
        "type": "text",
        "text": {"body": "Hi"},
    }
    contact: dict[str, Any] = {"profile": {"name": "Sheena"}, "user_id": BSUID}
    if wa_id is not None:
        message["from"] = wa_id
        contact["wa_id"] = wa_id
    body = message_webhook(SHOP, "", "Sheena", message)
    body["entry"][0]["changes"][0]["value"]["contacts"] = [contact]
    return body


def test_a_username_only_sender_gets_a_contact_and_a_later_number_joins_it(shop: Shop) -> None:
    [event] = shop.deliver(username_message("wamid.bsuid-1", EPOCH))
    assert (event.state, event.last_error) == ("processed", None)
    [contact] = shop.rows(Contact)
    assert contact.name == "Sheena"
    assert [(i.address, i.is_current) for i in shop.rows(Identity)] == [(BSUID, True)]
    assert len(shop.rows(Message)) == 1
    shop.deliver(username_message("wamid.bsuid-2", EPOCH + 60, wa_id="16505551234"))
    assert len(shop.rows(Contact)) == 1
    assert {i.address for i in shop.rows(Identity) if i.is_current} == {BSUID, "+16505551234"}
    assert len(shop.rows(Message)) == 2
    # A BSUID change keeps the old one in the identity history.
    change = {
        "from": "16505551234",
        "id": "wamid.bsuid-change",
        "timestamp": str(EPOCH + 120),
        "type": "system",
        "system": {
            "body": "User changed their username",
            "type": "user_changed_user_id",
            "user_id": "US.99999999999999999999",
            "previous_user_id": BSUID,
        },
    }
    shop.deliver(message_webhook(SHOP, "", "", change, with_contact=False))
    identities = {(i.address, i.is_current) for i in shop.rows(Identity)}
    assert (BSUID, False) in identities and ("US.99999999999999999999", True) in identities
    assert len(shop.rows(Contact)) == 1


def test_a_known_number_learns_its_bsuid(shop: Shop) -> None:
    shop.says("wamid.n1", "16505551234", "Hello")
    shop.deliver(username_message("wamid.n2", EPOCH + 60, wa_id="16505551234"))
    assert len(shop.rows(Contact)) == 1
    assert {i.address for i in shop.rows(Identity)} == {"+16505551234", BSUID}
