"""Webhook bodies the simulator posts, in the shapes of the reference (sections 4-6)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

Payload = dict[str, Any]

MEDIA_MIME = {
    "image": "image/jpeg",
    "audio": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}
CONTENT_KEYS = (
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "button_reply",
    "list_reply",
    "button",
    "reaction",
    "order",
    "unsupported",
    "change_number",
    "unreact",
    "edit",
    "revoke",
    "request_welcome",
)


class StepError(ValueError):
    """A script step the simulator cannot turn into a message."""


@dataclass(frozen=True)
class Business:
    waba_id: str
    phone_number_id: str
    display_phone_number: str


def new_wamid(seed: str) -> str:
    # Real wamids are base64 of an internal id; keep the look, including "=" padding.
    digest = hashlib.sha256(seed.encode()).digest()[:18]
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + digest).decode()


def envelope(business: Business, value: Payload) -> Payload:
    metadata = {
        "display_phone_number": business.display_phone_number,
        "phone_number_id": business.phone_number_id,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": business.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                    }
                ],
            }
        ],
    }


def message_webhook(
    business: Business, wa_id: str, name: str, message: Payload, *, with_contact: bool = True
) -> Payload:
    value: Payload = {"messages": [message]}
    if with_contact:  # system messages come without the contacts array
        value = {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], **value}
    return envelope(business, value)


def status_webhook(
    business: Business,
    *,
    wamid: str,
    status: str,
    recipient: str,
    timestamp: int,
    callback_data: str | None,
    category: str,
    errors: list[Payload] | None = None,
) -> Payload:
    item: Payload = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if callback_data:
        item["biz_opaque_callback_data"] = callback_data
    if status == "failed":
        item["errors"] = errors or []
    else:
        if status == "sent":
            item["conversation"] = {
                "id": hashlib.md5(f"{recipient}:{category}".encode()).hexdigest(),
                "expiration_timestamp": str(timestamp + 86400),
                "origin": {"type": category},
            }
        item["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if category == "service" else "regular",
        }
    return envelope(business, {"statuses": [item]})


def error_object(code: int, title: str, details: str) -> Payload:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def inbound_message(
    step: Payload,
    *,
    wamid: str,
    wa_id: str,
    timestamp: int,
    business_number: str,
    last_business_message: str | None,
    last_customer_message: str | None = None,
) -> Payload:
    """One script step (`{"text": "hi"}`, `{"image": {...}}`, ...) → a `messages[]` item.

    Besides content: `{"reaction": "👍"}` reacts to the business's last message (`""` or
    `{"unreact": true}` removes it; `"to": "<wamid>"` picks the message); `{"edit": "new
    text"}` and `{"revoke": true}` change the customer's own last message (`"to"` picks
    another; `{"unsupported": "edit"}` is an edit as plain Cloud API numbers report it)."""
    kinds = [k for k in CONTENT_KEYS if k in step]
    if len(kinds) != 1:
        raise StepError(f"a step needs exactly one of {', '.join(CONTENT_KEYS)}; got {step!r}")
    kind = kinds[0]
    argument = step[kind]
    message: Payload = {"from": wa_id, "id": wamid, "timestamp": str(timestamp)}
    context: Payload = {}
    if kind == "text":
        message.update(type="text", text={"body": str(argument)})
    elif kind in MEDIA_MIME:
        media = dict(argument) if isinstance(argument, dict) else {"caption": str(argument)}
        media.setdefault("mime_type", MEDIA_MIME[kind])
        media.setdefault(
            "sha256", base64.b64encode(hashlib.sha256(wamid.encode()).digest()).decode()
        )
        media.setdefault("id", str(int(hashlib.sha256(wamid.encode()).hexdigest()[:15], 16)))
        if kind == "audio":
            media.setdefault("voice", True)
            media.pop("caption", None)
        if kind == "sticker":
            media.setdefault("animated", False)
            media.pop("caption", None)
        message.update(type=kind, **{kind: media})
    elif kind == "location":
        message.update(type="location", location=dict(argument))
    elif kind == "contacts":
        cards = argument if isinstance(argument, list) else [argument]
        message.update(type="contacts", contacts=[_card(c) for c in cards])
    elif kind in ("button_reply", "list_reply"):
        message.update(type="interactive", interactive={"type": kind, kind: dict(argument)})
        context = _reply_context(business_number, last_business_message)
    elif kind == "button":
        message.update(type="button", button=dict(argument))
        context = _reply_context(business_number, last_business_message)
    elif kind in ("reaction", "unreact"):
        target = str(step.get("to") or last_business_message or wamid)
        reacted: Payload = {"message_id": target}
        if kind == "reaction":
            reacted["emoji"] = str(argument)
        message.update(type="reaction", reaction=reacted)
    elif kind in ("edit", "revoke"):
        original = step.get("to") or last_customer_message
        if not original:
            raise StepError(f"{kind} needs an earlier customer message (or `to`)")
        if kind == "edit":
            message.update(
                type="edit",
                edit={
                    "original_message_id": str(original),
                    "message": {"type": "text", "text": {"body": str(argument)}},
                },
            )
        else:
            message.update(type="revoke", revoke={"original_message_id": str(original)})
    elif kind == "request_welcome":
        message.update(type="request_welcome")
    elif kind == "order":
        message.update(type="order", order=_order(argument))
    elif kind == "unsupported":
        if str(argument) == "edit" and (step.get("to") or last_customer_message):
            context = {"id": str(step.get("to") or last_customer_message)}
        message.update(
            type="unsupported",
            unsupported={"type": str(argument)},
            errors=[
                error_object(
                    131051, "Message type unknown", "Message type is currently not supported."
                )
            ],
        )
    elif kind == "change_number":
        new = str(argument)
        message.update(
            type="system",
            system={
                "body": f"User changed from {wa_id} to {new}",
                "wa_id": new,
                "type": "user_changed_number",
            },
        )
    if step.get("reply_to_last") and last_business_message:
        context = _reply_context(business_number, last_business_message)
    if step.get("forwarded"):
        context = {**context, "forwarded": True}
    if context:
        message["context"] = context
    if isinstance(step.get("referral"), dict):
        message["referral"] = dict(step["referral"])
    return message


def _reply_context(business_number: str, replied_to: str | None) -> Payload:
    return {"from": business_number, "id": replied_to} if replied_to else {}


def _card(card: Any) -> Payload:
    card = card if isinstance(card, dict) else {"name": str(card)}
    name = str(card.get("name", ""))
    first, _, last = name.partition(" ")
    result: Payload = {"name": {"formatted_name": name, "first_name": first, "last_name": last}}
    if card.get("phone"):
        digits = "".join(ch for ch in str(card["phone"]) if ch.isdigit())
        result["phones"] = [{"phone": str(card["phone"]), "wa_id": digits, "type": "CELL"}]
    return result


def _order(argument: Any) -> Payload:
    argument = argument if isinstance(argument, dict) else {}
    items = [
        {
            "product_retailer_id": str(i.get("id", "")),
            "quantity": i.get("quantity", 1),
            "item_price": i.get("price", 0),
            "currency": str(i.get("currency", "KES")),
        }
        for i in argument.get("items", [])
        if isinstance(i, dict)
    ]
    return {
        "catalog_id": str(argument.get("catalog_id", "354160437058781")),
        "text": str(argument.get("text", "")),
        "product_items": items,
    }


# --- shapes beyond a customer's plain message (reference §3, §4, §5.8-5.14, §6.5) -----------

# What the App Dashboard's webhook "Test" button sends (reference §3).
TEST_SAMPLE_BUSINESS = Business("0", "123456123", "16505551111")
TEST_SAMPLE_WAMID = "ABGGFlA5Fpa"


def reaction(wamid: str, wa_id: str, timestamp: int, target: str, emoji: str | None) -> Payload:
    """A reaction to `target`; `emoji` "" or None (no key at all) is a removal (§5.8)."""
    body: Payload = {"message_id": target}
    if emoji is not None:
        body["emoji"] = emoji
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "reaction",
        "reaction": body,
    }


def edit(wamid: str, wa_id: str, timestamp: int, original: str, text: str) -> Payload:
    """The sender changed the text of `original` (§5.13, coexistence numbers)."""
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "edit",
        "edit": {
            "original_message_id": original,
            "message": {"type": "text", "text": {"body": text}},
        },
    }


def revoke(wamid: str, wa_id: str, timestamp: int, original: str) -> Payload:
    """The sender deleted `original` for everyone (§5.13)."""
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "revoke",
        "revoke": {"original_message_id": original},
    }


def unsupported(
    wamid: str, wa_id: str, timestamp: int, kind: str | None, original: str | None = None
) -> Payload:
    """A type WhatsApp cannot hand to the API (§5.12): a poll, or on plain Cloud API numbers
    an edit (`kind="edit"`), then naming the edited message when `original` is given."""
    message: Payload = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "unsupported",
        "errors": [
            error_object(131051, "Message type unknown", "Message type is currently not supported.")
        ],
    }
    if kind is not None:
        message["unsupported"] = {"type": kind}
    if original is not None:
        message["context"] = {"id": original}
    return message


def echo_webhook(business: Business, to: str, message: Payload) -> Payload:
    """A message the business typed in the WhatsApp Business app (coexistence, §5.14):
    field `smb_message_echoes`, `from` the business, `to` the customer."""
    echo = {**message, "from": business.display_phone_number, "to": to}
    body = envelope(business, {"message_echoes": [echo]})
    body["entry"][0]["changes"][0]["field"] = "smb_message_echoes"
    return body


def dashboard_sample_webhook(body: str = "this is a text message") -> Payload:
    """The App Dashboard's Test button sample: entry id "0", a fake number and wamid."""
    message = {
        "from": "16315551181",
        "id": TEST_SAMPLE_WAMID,
        "timestamp": "1504902988",
        "type": "text",
        "text": {"body": body},
    }
    return message_webhook(TEST_SAMPLE_BUSINESS, "16315551181", "test user name", message)


def change_webhook(business: Business, field: str, value: Payload) -> Payload:
    """A change of another subscription field (template status, account update...)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": business.waba_id, "changes": [{"field": field, "value": value}]}],
    }


def template_status_webhook(
    business: Business,
    *,
    event: str,
    template_id: int,
    name: str,
    language: str,
    reason: str | None = None,
) -> Payload:
    """`message_template_status_update` (§6.5); template ids are integers here."""
    value: Payload = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason or "NONE",
    }
    return change_webhook(business, "message_template_status_update", value)


def errors_webhook(business: Business, errors: list[Payload]) -> Payload:
    """Out-of-band `value.errors[]` (§4): a problem not tied to one message."""
    return envelope(business, {"errors": errors})
