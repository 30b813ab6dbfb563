"""Reading a message's content by its type, and the sub-objects around it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.whatsapp import reading as read
from connectors.whatsapp.events import (
    ButtonContent,
    ContactsContent,
    ConversationInfo,
    EditContent,
    EventFlag,
    InteractiveReplyContent,
    Json,
    LocationContent,
    MediaContent,
    MessageContent,
    MessageContext,
    NoContent,
    OrderContent,
    OrderItem,
    PricingInfo,
    ProviderError,
    ReactionContent,
    Referral,
    RevokeContent,
    SenderProfile,
    SharedContact,
    SystemContent,
    TextContent,
    UnsupportedContent,
)

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
SYSTEM_TYPES = frozenset(
    {
        "user_changed_number",
        "customer_changed_number",  # the older name of user_changed_number
        "user_changed_user_id",
        "customer_identity_changed",
    }
)


ContentResult = tuple[MessageContent, EventFlag | None, str]


def read_content(message_type: str, item: dict[str, Any]) -> ContentResult:
    reader = _CONTENT_READERS.get(message_type)
    if reader is None:
        return (
            NoContent(message_type),
            EventFlag.UNKNOWN,
            f"message type {message_type!r} is not known",
        )
    if message_type in ("unsupported", "unknown", "request_welcome"):
        return reader(item.get(message_type), item)
    payload = item.get(message_type)
    if not isinstance(payload, dict) and not (
        message_type == "contacts" and isinstance(payload, list)
    ):
        return (
            NoContent(message_type),
            EventFlag.MALFORMED,
            f"a {message_type} message without its `{message_type}` object",
        )
    return reader(payload, item)


def _text_content(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    body = payload.get("body")
    if not isinstance(body, str):
        return TextContent(""), EventFlag.MALFORMED, "text message without a body"
    return TextContent(body), None, ""


def _media_reader(kind: str) -> Callable[[dict[str, Any], dict[str, Any]], ContentResult]:
    def read_media(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
        content = MediaContent(
            kind=kind,
            media_id=read.text(payload.get("id")),
            mime_type=read.text(payload.get("mime_type")),
            sha256=read.text(payload.get("sha256")),
            caption=read.text(payload.get("caption")),
            filename=read.text(payload.get("filename")),
            voice=read.boolean(payload.get("voice")),
            animated=read.boolean(payload.get("animated")),
            url=read.text(payload.get("url")),
        )
        if content.media_id is None and content.url is None:
            return content, EventFlag.MALFORMED, f"{kind} without a media id"
        return content, None, ""

    return read_media


def _location(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    latitude, longitude = (
        read.number(payload.get("latitude")),
        read.number(payload.get("longitude")),
    )
    if latitude is None or longitude is None:
        return NoContent("location"), EventFlag.MALFORMED, "location without coordinates"
    return (
        LocationContent(
            latitude=latitude,
            longitude=longitude,
            name=read.text(payload.get("name")),
            address=read.text(payload.get("address")),
            url=read.text(payload.get("url")),
        ),
        None,
        "",
    )


def _contacts(payload: Any, _: dict[str, Any]) -> ContentResult:
    cards = []
    for card in payload if isinstance(payload, list) else []:
        if not isinstance(card, dict):
            continue
        name = read.mapping(card.get("name"))
        phones = [p for p in card.get("phones") or [] if isinstance(p, dict)]
        emails = [e for e in card.get("emails") or [] if isinstance(e, dict)]
        cards.append(
            SharedContact(
                formatted_name=read.text(name.get("formatted_name")),
                phones=tuple(t for p in phones if (t := read.text(p.get("phone")))),
                wa_ids=tuple(t for p in phones if (t := read.text(p.get("wa_id")))),
                emails=tuple(t for e in emails if (t := read.text(e.get("email")))),
                raw=card,
            )
        )
    return ContactsContent(tuple(cards)), None, ""


def _interactive(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    reply_type = read.text(payload.get("type")) or ""
    reply = payload.get(reply_type)
    if not isinstance(reply, dict):
        return (
            NoContent("interactive"),
            EventFlag.MALFORMED,
            f"interactive {reply_type!r} without its payload",
        )
    if reply_type in ("button_reply", "list_reply"):
        content = InteractiveReplyContent(
            reply_type=reply_type,
            reply_id=read.text(reply.get("id")),
            title=read.text(reply.get("title")),
            description=read.text(reply.get("description")),
        )
        return content, None, ""
    if reply_type == "nfm_reply":
        content = InteractiveReplyContent(
            reply_type=reply_type,
            reply_id=read.text(reply.get("name")),
            title=read.text(reply.get("body")),
            response_json=read.text(reply.get("response_json")),
        )
        return content, None, ""
    if reply_type == "call_permission_reply":
        content = InteractiveReplyContent(
            reply_type=reply_type, reply_id=read.text(reply.get("response"))
        )
        return content, None, ""
    content = InteractiveReplyContent(reply_type=reply_type, reply_id=None)
    return content, EventFlag.UNKNOWN, f"interactive reply type {reply_type!r} is not known"


def _button(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return (
        ButtonContent(read.text(payload.get("payload")), read.text(payload.get("text"))),
        None,
        "",
    )


def _reaction(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    # One provider sample misspells the key as `messsage_id`; read both.
    target = read.text(payload.get("message_id")) or read.text(payload.get("messsage_id"))
    return ReactionContent(target, read.text(payload.get("emoji"))), None, ""


def _order(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    items = tuple(
        OrderItem(
            product_retailer_id=read.text(i.get("product_retailer_id")),
            quantity=read.number(i.get("quantity")),
            item_price=read.number(i.get("item_price")),
            currency=read.text(i.get("currency")),
        )
        for i in payload.get("product_items") or []
        if isinstance(i, dict)
    )
    return (
        OrderContent(read.text(payload.get("catalog_id")), read.text(payload.get("text")), items),
        None,
        "",
    )


def _system(payload: dict[str, Any], item: dict[str, Any]) -> ContentResult:
    system_type = read.text(payload.get("type")) or ""
    identity = read.mapping(item.get("identity"))
    content = SystemContent(
        system_type=system_type,
        body=read.text(payload.get("body")),
        new_wa_id=read.text(payload.get("wa_id")) or read.text(payload.get("new_wa_id")),
        new_user_id=read.text(payload.get("user_id")),
        previous_user_id=read.text(payload.get("previous_user_id")),
        identity_hash=read.text(identity.get("hash")) or read.text(payload.get("identity")),
    )
    if system_type not in SYSTEM_TYPES:
        return content, EventFlag.UNKNOWN, f"system message type {system_type!r} is not known"
    if system_type in ("user_changed_number", "customer_changed_number") and not content.new_wa_id:
        return content, EventFlag.MALFORMED, "number change without the new wa_id"
    return content, None, ""


def _unsupported(payload: Any, _: dict[str, Any]) -> ContentResult:
    kind = read.text(payload.get("type")) if isinstance(payload, dict) else None
    return UnsupportedContent(kind), None, ""


def _request_welcome(_: Any, __: dict[str, Any]) -> ContentResult:
    return NoContent("request_welcome"), None, ""


def _edit(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return (
        EditContent(read.text(payload.get("original_message_id")), payload.get("message")),
        None,
        "",
    )


def _revoke(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return RevokeContent(read.text(payload.get("original_message_id"))), None, ""


_CONTENT_READERS: dict[str, Callable[[Any, dict[str, Any]], ContentResult]] = {
    "text": _text_content,
    **{kind: _media_reader(kind) for kind in MEDIA_TYPES},
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
    "unknown": _unsupported,  # the older name of unsupported
    "request_welcome": _request_welcome,
    "edit": _edit,
    "revoke": _revoke,
}


# --- shared sub-objects ----------------------------------------------------------------


def read_profile(contact: dict[str, Any]) -> SenderProfile:
    profile = read.mapping(contact.get("profile"))
    return SenderProfile(
        wa_id=read.text(contact.get("wa_id")),
        name=read.text(profile.get("name")),
        user_id=read.text(contact.get("user_id")),
        username=read.text(profile.get("username")),
    )


def read_context(raw: Json) -> MessageContext | None:
    if not isinstance(raw, dict):
        return None
    product = read.mapping(raw.get("referred_product"))
    return MessageContext(
        replied_to_id=read.text(raw.get("id")),
        replied_to_from=read.text(raw.get("from")),
        forwarded=raw.get("forwarded") is True,
        frequently_forwarded=raw.get("frequently_forwarded") is True,
        referred_product_id=read.text(product.get("product_retailer_id")),
        referred_catalog_id=read.text(product.get("catalog_id")),
    )


def read_referral(raw: Json) -> Referral | None:
    if not isinstance(raw, dict):
        return None
    return Referral(
        source_url=read.text(raw.get("source_url")),
        source_id=read.text(raw.get("source_id")),
        source_type=read.text(raw.get("source_type")),
        headline=read.text(raw.get("headline")),
        body=read.text(raw.get("body")),
        media_type=read.text(raw.get("media_type")),
        ctwa_clid=read.text(raw.get("ctwa_clid")),
        raw=raw,
    )


def read_errors(raw: Json) -> tuple[ProviderError, ...]:
    if not isinstance(raw, list):
        return ()
    errors = []
    for error in raw:
        if not isinstance(error, dict):
            continue
        data = read.mapping(error.get("error_data"))
        code = error.get("code")
        errors.append(
            ProviderError(
                code=read.integer(code),
                title=read.text(error.get("title")) or read.text(error.get("message")) or "",
                details=read.text(data.get("details")) or "",
                href=read.text(error.get("href")),
            )
        )
    return tuple(errors)


def read_conversation(raw: Json) -> ConversationInfo | None:
    if not isinstance(raw, dict):
        return None
    origin = read.mapping(raw.get("origin"))
    return ConversationInfo(
        id=read.text(raw.get("id")),
        origin_type=read.text(origin.get("type")),
        expiration_timestamp=read.timestamp(raw.get("expiration_timestamp")),
    )


def read_pricing(raw: Json) -> PricingInfo | None:
    if not isinstance(raw, dict):
        return None
    return PricingInfo(
        billable=read.boolean(raw.get("billable")),
        pricing_model=read.text(raw.get("pricing_model")),
        category=read.text(raw.get("category")),
        pricing_type=read.text(raw.get("type")) or read.text(raw.get("pricing_type")),
    )
