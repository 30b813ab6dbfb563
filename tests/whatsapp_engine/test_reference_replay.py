"""Issue 15: every example shape of the WhatsApp reference, replayed through the signed
webhook route and the worker's job: stored, applied or flagged with a reason, never a
failed event (a traceback) and never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.whatsapp.simulator.payloads import envelope, message_webhook
from engine.models import Message
from tests.whatsapp_engine.shapes import EPOCH, SHOP, Shop, shop

__all__ = ["shop"]

WA = "254722000001"
T = str(EPOCH)


def _m(wamid: str, kind: str, **rest: Any) -> dict[str, Any]:
    return {"from": WA, "id": wamid, "timestamp": T, "type": kind, **rest}


MESSAGES: dict[str, dict[str, Any]] = {
    "text": _m("wamid.r-text", "text", text={"body": "Does it come in another color?"}),
    "document": _m(
        "wamid.r-doc",
        "document",
        document={
            "caption": "caption",
            "filename": "filename.pdf",
            "mime_type": "application/pdf",
            "sha256": "grwf=",
            "id": "1234567890987654321",
        },
    ),
    "image-url": _m(
        "wamid.r-img",
        "image",
        image={
            "id": "55",
            "mime_type": "image/jpeg",
            "sha256": "x",
            "url": "https://lookaside.fbsbx.com/x",
        },
    ),
    "audio": _m(
        "wamid.r-audio",
        "audio",
        audio={"id": "56", "mime_type": "audio/ogg; codecs=opus", "sha256": "x", "voice": True},
    ),
    "sticker": _m(
        "wamid.r-sticker",
        "sticker",
        sticker={"id": "57", "mime_type": "image/webp", "sha256": "x", "animated": False},
    ),
    "video": _m(
        "wamid.r-video", "video", video={"id": "58", "mime_type": "video/mp4", "sha256": "x"}
    ),
    "location": _m(
        "wamid.r-loc",
        "location",
        location={
            "latitude": 37.4611978,
            "longitude": -122.2164385,
            "name": "Facebook HQ",
            "address": "1 Hacker Way",
            "url": "https://maps.google.com/?cid=1",
        },
    ),
    "location-current": _m(
        "wamid.r-loc2", "location", location={"latitude": 37.46, "longitude": -122.21}
    ),
    "contacts": _m(
        "wamid.r-cards",
        "contacts",
        contacts=[
            {
                "name": {
                    "first_name": "Chandler",
                    "last_name": "Bing",
                    "formatted_name": "Chandler Bing",
                },
                "phones": [{"phone": "+1 555-555-5555", "wa_id": "972987654321", "type": "CELL"}],
            }
        ],
    ),
    "button_reply": _m(
        "wamid.r-br",
        "interactive",
        context={"from": "254711502300", "id": "wamid.unknown-out"},
        interactive={
            "type": "button_reply",
            "button_reply": {"id": "callback_data", "title": "title"},
        },
    ),
    "list_reply": _m(
        "wamid.r-lr",
        "interactive",
        interactive={"type": "list_reply", "list_reply": {"id": "row-id", "title": "t"}},
    ),
    "nfm_reply": _m(
        "wamid.r-nfm",
        "interactive",
        interactive={
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"a": 1}'},
        },
    ),
    "call_permission_reply": _m(
        "wamid.r-cpr",
        "interactive",
        interactive={
            "type": "call_permission_reply",
            "call_permission_reply": {
                "response": "accept",
                "expiration_timestamp": 1753186982,
                "response_source": "user_action",
            },
        },
    ),
    "button": _m("wamid.r-btn", "button", button={"payload": "callback_data", "text": "title"}),
    "reaction-unknown-target": _m(
        "wamid.r-react", "reaction", reaction={"message_id": "wamid.never", "emoji": "\U0001f62e"}
    ),
    "reaction-misspelt": _m(
        "wamid.r-react2", "reaction", reaction={"messsage_id": "wamid.never", "emoji": "x"}
    ),
    "unreaction": _m("wamid.r-unreact", "reaction", reaction={"message_id": "wamid.never"}),
    "order": _m(
        "wamid.r-order",
        "order",
        order={
            "catalog_id": "354160437058781",
            "text": "",
            "product_items": [
                {
                    "product_retailer_id": "HAMBURGER",
                    "quantity": 3,
                    "item_price": 30.5,
                    "currency": "ILS",
                }
            ],
        },
    ),
    "request_welcome": _m("wamid.r-welcome", "request_welcome"),
    "unsupported-poll": _m(
        "wamid.r-poll",
        "unsupported",
        errors=[
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
        unsupported={"type": "poll"},
    ),
    "unsupported-bare": _m("wamid.r-unsup", "unsupported"),
    "unknown-legacy": _m(
        "wamid.r-unknown", "unknown", errors=[{"code": 131051, "title": "Message type unknown"}]
    ),
    "future-type": _m("wamid.r-future", "hologram", hologram={"x": 1}),
    "edit-orphan": _m(
        "wamid.r-edit",
        "edit",
        edit={
            "original_message_id": "wamid.never2",
            "message": {
                "type": "image",
                "image": {
                    "caption": "Updated",
                    "id": "1",
                    "mime_type": "image/jpeg",
                    "sha256": "x",
                },
            },
        },
    ),
    "revoke-orphan": _m("wamid.r-revoke", "revoke", revoke={"original_message_id": "wamid.never3"}),
    "forwarded": _m("wamid.r-fwd", "text", context={"forwarded": True}, text={"body": "fw"}),
    "referral": _m(
        "wamid.r-ref",
        "text",
        referral={
            "source_url": "https://fb.me/x",
            "source_id": "1",
            "source_type": "ad",
            "headline": "h",
            "body": "b",
            "media_type": "image",
            "image_url": "https://x",
            "ctwa_clid": "c",
        },
        text={"body": "from ad"},
    ),
    "int-timestamp": {
        "from": WA,
        "id": "wamid.r-int",
        "timestamp": EPOCH,
        "type": "text",
        "text": {"body": "int ts"},
    },
    "group": _m(
        "wamid.r-group", "text", group_id="120363000000000000@g.us", text={"body": "group"}
    ),
}


# Not a timeline message of their own (reference §5.8, §5.13): they act on another one.
ACTS_ON_ANOTHER = {
    "reaction-unknown-target",
    "reaction-misspelt",
    "unreaction",
    "edit-orphan",
    "revoke-orphan",
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_each_reference_message_shape_is_applied_or_flagged_never_failed(
    shop: Shop, name: str
) -> None:
    events = shop.message(MESSAGES[name], wa_id=WA)
    assert events, "nothing stored"
    for event in events:
        assert event.state in ("processed", "flagged", "waiting"), (event.state, event.last_error)
    shown = [m for m in shop.rows(Message) if m.provider_message_id == MESSAGES[name]["id"]]
    if name in ACTS_ON_ANOTHER:
        assert shown == []
    else:
        # Every other shape is a visible message on the conversation, even unknown ones.
        assert len(shown) == 1 and shown[0].conversation_id is not None


def _change(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": SHOP.waba_id, "changes": [{"field": field, "value": value}]}],
    }


META = {"display_phone_number": SHOP.display_phone_number, "phone_number_id": SHOP.phone_number_id}

BODIES: dict[str, dict[str, Any]] = {
    "status-sent-unknown": envelope(
        SHOP,
        {
            "statuses": [
                {
                    "id": "wamid.HBgN-x",
                    "status": "sent",
                    "timestamp": T,
                    "recipient_id": WA,
                    "biz_opaque_callback_data": "order-123",
                    "conversation": {
                        "id": "a75d",
                        "expiration_timestamp": T,
                        "origin": {"type": "service"},
                    },
                    "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
                }
            ]
        },
    ),
    "status-failed-unknown": envelope(
        SHOP,
        {
            "statuses": [
                {
                    "id": "wamid.x-failed",
                    "status": "failed",
                    "timestamp": T,
                    "recipient_id": WA,
                    "errors": [
                        {
                            "code": 131049,
                            "title": "t",
                            "message": "m",
                            "error_data": {"details": "d"},
                        }
                    ],
                }
            ]
        },
    ),
    "status-weird": envelope(
        SHOP,
        {
            "statuses": [
                {"id": "wamid.x-weird", "status": "warning", "timestamp": T, "recipient_id": WA}
            ]
        },
    ),
    "status-group": envelope(
        SHOP,
        {
            "statuses": [
                {
                    "id": "wamid.x-grp",
                    "status": "delivered",
                    "timestamp": T,
                    "recipient_id": "120363@g.us",
                    "recipient_type": "group",
                    "recipient_participant_id": WA,
                }
            ]
        },
    ),
    "oob-errors": envelope(
        SHOP,
        {
            "errors": [
                {
                    "code": 130429,
                    "title": "Rate limit hit",
                    "message": "Rate limit hit",
                    "error_data": {"details": "too many"},
                }
            ]
        },
    ),
    "interactive-without-object": envelope(
        SHOP,
        {
            "contacts": [{"profile": {"name": "A"}, "wa_id": WA}],
            "messages": [_m("wamid.r-noint", "interactive")],
            "errors": [
                {
                    "code": 131000,
                    "title": "Something went wrong",
                    "message": "Something went wrong",
                    "error_data": {"details": "Unsupported webhook payload"},
                }
            ],
        },
    ),
    "system-changed-number": message_webhook(
        SHOP,
        WA,
        "A",
        _m(
            "wamid.r-sys==",
            "system",
            system={
                "body": "User A changed from x to y",
                "wa_id": "254722000009",
                "type": "user_changed_number",
            },
        ),
        with_contact=False,
    ),
    "system-identity": message_webhook(
        SHOP,
        WA,
        "A",
        {
            **_m(
                "wamid.r-sys2",
                "system",
                system={
                    "body": "security code changed",
                    "type": "customer_identity_changed",
                    "customer": WA,
                },
            ),
            "identity": {"acknowledged": True, "created_timestamp": EPOCH, "hash": "h"},
        },
        with_contact=False,
    ),
    "system-legacy": message_webhook(
        SHOP,
        WA,
        "A",
        _m(
            "wamid.r-sys3",
            "system",
            system={
                "body": "changed",
                "new_wa_id": "254722000010",
                "type": "customer_changed_number",
                "customer": WA,
            },
        ),
        with_contact=False,
    ),
    "system-user-id": message_webhook(
        SHOP,
        WA,
        "A",
        _m(
            "wamid.r-sys4",
            "system",
            system={
                "body": "id changed",
                "type": "user_changed_user_id",
                "user_id": "KE.123",
                "previous_user_id": "KE.122",
            },
        ),
        with_contact=False,
    ),
    "bsuid-only": envelope(
        SHOP,
        {
            "contacts": [
                {
                    "profile": {"name": "U", "username": "u"},
                    "user_id": "US.13491208655302741918",
                    "parent_user_id": "US.ENT.1",
                }
            ],
            "messages": [
                {
                    "from_user_id": "US.13491208655302741918",
                    "id": "wamid.r-bsuid",
                    "timestamp": T,
                    "type": "text",
                    "text": {"body": "hi"},
                }
            ],
        },
    ),
    "no-profile": envelope(
        SHOP,
        {
            "contacts": [{"wa_id": WA}],
            "messages": [_m("wamid.r-noprof", "text", text={"body": "x"})],
        },
    ),
    "two-changes": {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": SHOP.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": META,
                            "contacts": [{"wa_id": WA}],
                            "messages": [_m("wamid.r-two1", "text", text={"body": "1"})],
                        },
                    },
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": META,
                            "contacts": [{"wa_id": WA}],
                            "messages": [_m("wamid.r-two2", "text", text={"body": "2"})],
                        },
                    },
                ],
            }
        ],
    },
    "echo": {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": SHOP.waba_id,
                "changes": [
                    {
                        "field": "smb_message_echoes",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": META,
                            "message_echoes": [
                                {
                                    "from": SHOP.display_phone_number,
                                    "to": WA,
                                    "id": "wamid.r-echo",
                                    "timestamp": T,
                                    "type": "text",
                                    "text": {"body": "from the app"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    },
    "template-status": _change(
        "message_template_status_update",
        {
            "event": "REJECTED",
            "message_template_id": 1689556908129835,
            "message_template_name": "abandoned_cart",
            "message_template_language": "en",
            "reason": "INVALID_FORMAT",
            "message_template_category": "MARKETING",
            "rejection_info": {"reason": "r", "recommendation": "x"},
        },
    ),
    "template-category": _change(
        "template_category_update",
        {
            "message_template_id": 1,
            "message_template_name": "abandoned_cart",
            "message_template_language": "en",
            "new_category": "MARKETING",
            "correct_category": "UTILITY",
        },
    ),
    "template-quality": _change(
        "message_template_quality_update",
        {
            "message_template_id": 1,
            "message_template_name": "abandoned_cart",
            "message_template_language": "en",
            "previous_quality_score": "GREEN",
            "new_quality_score": "RED",
        },
    ),
    "template-components": _change(
        "message_template_components_update", {"message_template_id": 1}
    ),
    "user-preferences": _change(
        "user_preferences",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "contacts": [{"wa_id": WA}],
            "user_preferences": [
                {
                    "wa_id": WA,
                    "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages",
                    "value": "stop",
                    "timestamp": EPOCH,
                }
            ],
        },
    ),
    "account-update": _change(
        "account_update",
        {
            "phone_number": "254711502300",
            "event": "ACCOUNT_RESTRICTION",
            "restriction_info": [
                {"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": 1}
            ],
        },
    ),
    "account-alerts": _change(
        "account_alerts",
        {
            "entity_type": "WABA",
            "entity_id": "1",
            "alert_info": {
                "alert_severity": "WARNING",
                "alert_status": "ACTIVE",
                "alert_type": "X",
                "alert_description": "d",
            },
        },
    ),
    "quality": _change(
        "phone_number_quality_update",
        {"display_phone_number": "254711502300", "event": "FLAGGED", "current_limit": "TIER_1K"},
    ),
    "security": _change(
        "security", {"display_phone_number": "254711502300", "event": "PIN_CHANGED"}
    ),
    "flows": _change("flows", {"event": "FLOW_STATUS_CHANGE", "flow_id": "1"}),
    "calls": _change(
        "calls",
        {
            "messaging_product": "whatsapp",
            "metadata": META,
            "calls": [{"id": "wacid.1", "from": WA, "event": "connect"}],
        },
    ),
    "history": _change(
        "history", {"messaging_product": "whatsapp", "metadata": META, "history": [{"threads": []}]}
    ),
    "unknown-field": _change("brand_new_field", {"x": 1}),
    "empty-messages": envelope(SHOP, {}),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_reference_webhook_body_is_applied_or_flagged_never_failed(
    shop: Shop, name: str
) -> None:
    events = shop.deliver(BODIES[name])
    assert events, "nothing stored"
    for event in events:
        assert event.state in ("processed", "flagged", "waiting"), (
            name,
            event.state,
            event.last_error,
        )
    print(name, [(e.state, e.last_error) for e in events], [m.body for m in shop.rows(Message)])
