"""Outbound messages → the exact Cloud API request bodies (`POST /{phone}/messages`)."""

from __future__ import annotations

from typing import Any

from engine.core.messaging import (
    CurrencyParameter,
    MarkAsRead,
    MediaParameter,
    OutboundButtons,
    OutboundContact,
    OutboundList,
    OutboundLocation,
    OutboundMedia,
    OutboundMessage,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    TemplateParameter,
    TextParameter,
)

Body = dict[str, Any]


def request_body(message: OutboundMessage, idempotency_key: str | None = None) -> Body:
    """The JSON body for `message`.

    The idempotency key travels as `biz_opaque_callback_data`, which WhatsApp echoes
    on every status of the message: a status that races ahead of our send response
    can still be matched to its outbox row. A message's own `callback_data` wins.
    """
    if isinstance(message, MarkAsRead):
        body: Body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message.message_id,
        }
        if message.typing_indicator:
            body["typing_indicator"] = {"type": "text"}
        return body
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to}
    if isinstance(message, OutboundText):
        body["type"] = "text"
        body["text"] = {"preview_url": message.preview_url, "body": message.body}
    elif isinstance(message, OutboundTemplate):
        body["type"] = "template"
        body["template"] = _template(message)
    elif isinstance(message, OutboundMedia):
        body["type"] = message.kind
        body[message.kind] = _media(message)
    elif isinstance(message, OutboundButtons | OutboundList):
        body["type"] = "interactive"
        body["interactive"] = _interactive(message)
    elif isinstance(message, OutboundReaction):
        body["type"] = "reaction"
        body["reaction"] = {"message_id": message.message_id, "emoji": message.emoji}
    elif isinstance(message, OutboundLocation):
        body["type"] = "location"
        location: Body = {"latitude": message.latitude, "longitude": message.longitude}
        if message.name:
            location["name"] = message.name
        if message.address:
            location["address"] = message.address
        body["location"] = location
    elif isinstance(message, OutboundContact):
        body["type"] = "contacts"
        body["contacts"] = [_contact_card(message)]
    reply_to = getattr(message, "reply_to", None)
    if reply_to:
        body["context"] = {"message_id": reply_to}
    callback = message.callback_data or idempotency_key
    if callback:
        body["biz_opaque_callback_data"] = callback
    return body


def _contact_card(message: OutboundContact) -> Body:
    """One card: `name.formatted_name` is required; first name is the first word."""
    first, _, last = message.name.strip().partition(" ")
    name: Body = {"formatted_name": message.name.strip(), "first_name": first}
    if last:
        name["last_name"] = last
    digits = "".join(c for c in message.phone if c.isdigit())
    phone: Body = {"phone": message.phone, "type": "CELL"}
    if digits:
        phone["wa_id"] = digits
    return {"name": name, "phones": [phone]}


def _template(message: OutboundTemplate) -> Body:
    components: list[Body] = []
    if message.header:
        components.append({"type": "header", "parameters": [_parameter(p) for p in message.header]})
    if message.body:
        components.append({"type": "body", "parameters": [_parameter(p) for p in message.body]})
    for button in message.buttons:
        components.append(
            {
                "type": "button",
                "sub_type": button.sub_type,
                "index": str(button.index),
                "parameters": [_parameter(p) for p in button.parameters],
            }
        )
    template: Body = {"name": message.name, "language": {"code": message.language}}
    if components:
        template["components"] = components
    return template


def _parameter(parameter: TemplateParameter) -> Body:
    body: Body
    if isinstance(parameter, TextParameter):
        body = {"type": "text", "text": parameter.text}
    elif isinstance(parameter, CurrencyParameter):
        body = {
            "type": "currency",
            "currency": {
                "fallback_value": parameter.fallback_value,
                "code": parameter.code,
                "amount_1000": parameter.amount_1000,
            },
        }
    elif isinstance(parameter, MediaParameter):
        media: Body = {"link": parameter.link} if parameter.link else {"id": parameter.media_id}
        if parameter.filename and parameter.kind == "document":
            media["filename"] = parameter.filename
        return {"type": parameter.kind, parameter.kind: media}
    else:
        return {"type": "payload", "payload": parameter.payload}
    if parameter.name:
        body["parameter_name"] = parameter.name
    return body


def _media(message: OutboundMedia) -> Body:
    media: Body = {"link": message.link} if message.link else {"id": message.media_id}
    if message.caption and message.kind not in ("audio", "sticker"):
        media["caption"] = message.caption
    if message.filename and message.kind == "document":
        media["filename"] = message.filename
    return media


def _interactive(message: OutboundButtons | OutboundList) -> Body:
    interactive: Body
    if isinstance(message, OutboundButtons):
        interactive = {
            "type": "button",
            "body": {"text": message.body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title}}
                    for b in message.buttons
                ]
            },
        }
    else:
        interactive = {
            "type": "list",
            "body": {"text": message.body},
            "action": {
                "button": message.button,
                "sections": [
                    {"title": s.title, "rows": [_row(r.id, r.title, r.description) for r in s.rows]}
                    for s in message.sections
                ],
            },
        }
    if message.header_text:
        interactive["header"] = {"type": "text", "text": message.header_text}
    if message.footer:
        interactive["footer"] = {"text": message.footer}
    return interactive


def _row(row_id: str, title: str, description: str | None) -> Body:
    row: Body = {"id": row_id, "title": title}
    if description:
        row["description"] = description
    return row
