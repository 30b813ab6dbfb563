"""Webhook fixtures built from the examples of the offline reference (whatsapp-cloud-api.md)."""

from __future__ import annotations

import json
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
SENDER = "16505551234"

Payload = dict[str, Any]


def value(**items: Any) -> Payload:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        **items,
    }


def change(field: str = "messages", **items: Any) -> Payload:
    return {"field": field, "value": value(**items)}


def entry(*changes: Payload, waba_id: str = WABA_ID) -> Payload:
    return {"id": waba_id, "changes": list(changes)}


def webhook(*entries: Payload) -> Payload:
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def sender_contact(wa_id: str = SENDER, name: str = "Sheena Nelson") -> Payload:
    return {"profile": {"name": name}, "wa_id": wa_id}


def message_webhook(message: Payload, *, contact: Payload | None = None) -> Payload:
    contacts = [contact or sender_contact(message.get("from", SENDER))]
    return webhook(entry(change(contacts=contacts, messages=[message])))


def status_webhook(*statuses: Payload) -> Payload:
    return webhook(entry(change(statuses=list(statuses))))


def body(document: Any) -> bytes:
    # Meta's form: non-ASCII escaped as \uXXXX.
    return json.dumps(document, ensure_ascii=True).encode("ascii")


def base(
    kind: str,
    wamid: str = "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
    sender: str = SENDER,
    timestamp: str = "1749416383",
) -> Payload:
    return {"from": sender, "id": wamid, "timestamp": timestamp, "type": kind}


# --- section 5: one example per inbound type -------------------------------------------

TEXT = {**base("text"), "text": {"body": "Does it come in another color?"}}
IMAGE = {
    **base("image", "wamid.img"),
    "image": {"caption": "this one", "mime_type": "image/jpeg", "sha256": "abc=", "id": "111"},
}
AUDIO = {
    **base("audio", "wamid.aud"),
    "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "x=", "id": "222", "voice": True},
}
VIDEO = {
    **base("video", "wamid.vid"),
    "video": {"mime_type": "video/mp4", "sha256": "y", "id": "333"},
}
DOCUMENT = {
    **base("document", "wamid.x"),
    "document": {
        "caption": "caption",
        "filename": "filename.pdf",
        "mime_type": "application/pdf",
        "sha256": "grwf...=",
        "id": "1234567890987654321",
    },
}
STICKER = {
    **base("sticker", "wamid.stk"),
    "sticker": {"mime_type": "image/webp", "sha256": "z", "id": "444", "animated": False},
}
LOCATION = {
    **base("location", "wamid.loc"),
    "location": {
        "latitude": 37.4611978,
        "longitude": -122.2164385,
        "name": "Facebook HQ",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "url": "https://maps.google.com/?cid=1",
    },
}
CONTACTS = {
    **base("contacts", "wamid.cts"),
    "contacts": [
        {
            "name": {
                "first_name": "Chandler",
                "last_name": "Bing",
                "formatted_name": "Chandler Bing",
            },
            "phones": [{"phone": "+1 555-555-5555", "wa_id": "972987654321", "type": "CELL"}],
        }
    ],
}
BUTTON_REPLY = {
    "context": {"from": "1122334455667", "id": "wamid.our-interactive"},
    **base("interactive", "wamid.y", sender="972987654321", timestamp="1698266730"),
    "interactive": {
        "type": "button_reply",
        "button_reply": {"id": "callback_data", "title": "title"},
    },
}
LIST_REPLY = {
    **base("interactive", "wamid.lst"),
    "context": {"from": DISPLAY_NUMBER, "id": "wamid.our-list"},
    "interactive": {
        "type": "list_reply",
        "list_reply": {"id": "row-id", "title": "09:00", "description": "Clinic A"},
    },
}
QUICK_REPLY = {
    "context": {"from": "972123456789", "id": "wamid.template-msg"},
    **base("button", "wamid.z", sender="972987654321", timestamp="1698269027"),
    "button": {"payload": "callback_data", "text": "title"},
}
QUICK_REPLY_NO_CONTEXT = {**base("button", "wamid.z2"), "button": {"payload": "p", "text": "t"}}
REACTION = {
    **base("reaction", "wamid.rct"),
    "reaction": {"message_id": "wamid.reacted", "emoji": "😮"},
}
UNREACTION_EMPTY = {
    **base("reaction", "wamid.ur1"),
    "reaction": {"message_id": "wamid.r", "emoji": ""},
}
UNREACTION_NO_EMOJI = {**base("reaction", "wamid.ur2"), "reaction": {"message_id": "wamid.r"}}
ORDER = {
    **base("order", "wamid.ord"),
    "order": {
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
}
NUMBER_CHANGE = {
    **base("system", "wamid.x==", sender="972987654321", timestamp="1753851315"),
    "system": {
        "body": "User A changed from 972987654321 to 972912345678",
        "wa_id": "972912345678",
        "type": "user_changed_number",
    },
}
IDENTITY_CHANGE = {
    **base("system", "wamid.idc"),
    "system": {"body": "security code changed", "type": "customer_identity_changed"},
    "identity": {"acknowledged": True, "created_timestamp": 1700000000, "hash": "Sjvjlx8G6Z0="},
}
UNSUPPORTED = {
    **base("unsupported", "wamid.uns", sender="972987654321", timestamp="1697044706"),
    "errors": [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ],
    "unsupported": {"type": "poll"},
}
FORWARDED = {**base("text", "wamid.fwd"), "context": {"forwarded": True}, "text": {"body": "fwd"}}
FREQUENTLY_FORWARDED = {
    **base("text", "wamid.ffw"),
    "context": {"frequently_forwarded": True},
    "text": {"body": "chain letter"},
}
REPLY = {
    **base("text", "wamid.rep"),
    "context": {"from": DISPLAY_NUMBER, "id": "wamid.replied-to"},
    "text": {"body": "yes that one"},
}
REFERRAL = {
    **base("text", "wamid.ref"),
    "text": {"body": "I saw your ad"},
    "referral": {
        "source_url": "https://fb.me/abc",
        "source_id": "120208880000000001",
        "source_type": "ad",
        "headline": "Fresh flowers",
        "body": "Delivered today",
        "media_type": "image",
        "image_url": "https://example.com/a.jpg",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
    },
}

# --- section 6: statuses ----------------------------------------------------------------

SENT = {
    "id": "wamid.HBgN",
    "status": "sent",
    "timestamp": "1750857384",
    "recipient_id": "5516992318222",
    "biz_opaque_callback_data": "order-123",
    "conversation": {
        "id": "a75d17ad06104c51166f948319b03c6a",
        "expiration_timestamp": "1750943820",
        "origin": {"type": "service"},
    },
    "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
}
DELIVERED = {
    "id": "wamid.HBgN",
    "status": "delivered",
    "timestamp": "1750857390",
    "recipient_id": "5516992318222",
    "pricing": {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    },
}
READ = {
    "id": "wamid.HBgN",
    "status": "read",
    "timestamp": 1750857400,
    "recipient_id": "5516992318222",
}
FAILED = {
    "id": "wamid.x",
    "status": "failed",
    "timestamp": "1689380458",
    "recipient_id": "972987654321",
    "errors": [
        {
            "code": 131049,
            "title": "This message was not delivered to maintain healthy ecosystem engagement.",
            "message": "...",
            "error_data": {"details": "marketing cap"},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ],
}
