"""Webhook body (raw bytes) → a list of typed events, one per message, status or error.

Untrusted input never raises out of here: an item, change or entry that cannot be
read becomes an event flagged `malformed` that keeps its raw JSON, and its siblings
in the same POST are parsed as usual. Unknown types, statuses and fields are kept
and flagged `unknown` (the platform adds them often; they must be stored, not lost).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from connectors.whatsapp.events import (
    KNOWN_STATUSES,
    PROVIDER,
    ButtonContent,
    ContactsContent,
    ConversationInfo,
    EditContent,
    EventFlag,
    InboundMessage,
    InteractiveReplyContent,
    Json,
    LocationContent,
    MalformedPayload,
    MediaContent,
    MessageContent,
    MessageContext,
    NoContent,
    OrderContent,
    OrderItem,
    Origin,
    OtherChange,
    OutOfBandError,
    PricingInfo,
    ProviderError,
    ReactionContent,
    Referral,
    RevokeContent,
    SenderProfile,
    SharedContact,
    StatusUpdate,
    SystemContent,
    TextContent,
    UnsupportedContent,
    WhatsAppEvent,
)

OBJECT = "whatsapp_business_account"

# Subscription fields Meta documents besides `messages`: stored as OtherChange, unflagged.
KNOWN_OTHER_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "message_template_components_update",
        "template_category_update",
        "account_update",
        "account_alerts",
        "account_review_update",
        "business_capability_update",
        "phone_number_quality_update",
        "phone_number_name_update",
        "security",
        "flows",
        "user_preferences",
        "calls",
        "history",
        "smb_app_state_sync",
    }
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
_COMMON_MESSAGE_KEYS = frozenset(
    {
        "from",
        "from_user_id",
        "from_parent_user_id",
        "to",
        "id",
        "timestamp",
        "type",
        "context",
        "referral",
        "errors",
        "identity",
        "group_id",
    }
)


def parse_webhook(body: bytes) -> list[WhatsAppEvent]:
    """Split one POST body into events. Never raises; unreadable JSON is one flagged event."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        text = body.decode("utf-8", errors="replace")
        return [
            MalformedPayload(
                dedup_key=f"{PROVIDER}:malformed:{hashlib.sha256(body).hexdigest()}",
                raw=text,
                envelope=None,
                origin=None,
                flags=frozenset({EventFlag.MALFORMED}),
                problems=(f"body is not JSON: {error}",),
                body_text=text,
            )
        ]
    return parse_envelope(document)


def parse_envelope(document: Json) -> list[WhatsAppEvent]:
    """Split an already decoded webhook body (or a stored single-item envelope) into events."""
    if not isinstance(document, dict) or document.get("object") != OBJECT:
        return [_malformed(document, document, None, "not a whatsapp_business_account webhook")]
    entries = document.get("entry")
    if not isinstance(entries, list):
        return [_malformed(document, document, None, "`entry` is not a list")]
    events: list[WhatsAppEvent] = []
    for entry in entries:
        events.extend(_guarded(partial(_parse_entry, entry), entry, _wrap_entry(entry)))
    return events


# --- envelope levels ---------------------------------------------------------------------


def _guarded(
    parse: Callable[[], list[WhatsAppEvent]], raw: Json, envelope: Json
) -> list[WhatsAppEvent]:
    # The one place a broad except is right: a bug or a surprise shape in one part of a
    # POST must become a flagged, stored event, never lose its siblings.
    try:
        return parse()
    except Exception as error:
        return [_malformed(raw, envelope, None, f"could not be read: {error!r}")]


def _parse_entry(entry: Json) -> list[WhatsAppEvent]:
    if not isinstance(entry, dict):
        return [_malformed(entry, _wrap_entry(entry), None, "entry is not an object")]
    changes = entry.get("changes")
    waba_id = _text(entry.get("id"))
    if not isinstance(changes, list):
        return [_malformed(entry, _wrap_entry(entry), None, "entry has no `changes` list")]
    events: list[WhatsAppEvent] = []
    for change in changes:
        envelope = _wrap_entry({"id": entry.get("id"), "changes": [change]})
        events.extend(_guarded(partial(_parse_change, waba_id, change), change, envelope))
    return events


def _parse_change(waba_id: str | None, change: Json) -> list[WhatsAppEvent]:
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        envelope = _wrap_entry({"id": waba_id, "changes": [change]})
        origin = Origin(waba_id, None)
        return [_malformed(change, envelope, origin, "change has no `value` object")]
    field_name = _text(change.get("field")) or ""
    value: dict[str, Any] = change["value"]
    metadata = _object(value.get("metadata"))
    origin = Origin(
        waba_id=waba_id,
        field=field_name,
        phone_number_id=_text(metadata.get("phone_number_id")),
        display_phone_number=_text(metadata.get("display_phone_number")),
    )
    scope = _Scope(waba_id, field_name, value, origin)
    if field_name == "messages":
        return scope.messages_change()
    if field_name == "smb_message_echoes":
        return scope.items("message_echoes", scope.message, echo=True)
    flags = frozenset() if field_name in KNOWN_OTHER_FIELDS else frozenset({EventFlag.UNKNOWN})
    return [
        OtherChange(
            dedup_key=f"{PROVIDER}:change:{field_name}:{_digest(value)}",
            raw=value,
            envelope=scope.whole_envelope(),
            origin=origin,
            flags=flags,
            problems=(f"subscription field {field_name!r} is not known",) if flags else (),
            field_name=field_name,
        )
    ]


class _Scope:
    """One change's `value`: shared metadata, sender profiles, and envelope building."""

    def __init__(self, waba_id: str | None, field_name: str, value: dict[str, Any], origin: Origin):
        self.waba_id = waba_id
        self.field_name = field_name
        self.value = value
        self.origin = origin
        contacts = value.get("contacts")
        self.contacts = (
            [c for c in contacts if isinstance(c, dict)] if isinstance(contacts, list) else []
        )

    def envelope(self, key: str | None, item: Json, contact: Json) -> Json:
        value: dict[str, Any] = {
            k: self.value[k] for k in ("messaging_product", "metadata") if k in self.value
        }
        if contact is not None:
            value["contacts"] = [contact]
        if key is not None:
            value[key] = [item]
        return _wrap_entry(
            {"id": self.waba_id, "changes": [{"field": self.field_name, "value": value}]}
        )

    def whole_envelope(self) -> Json:
        change = {"field": self.field_name, "value": self.value}
        return _wrap_entry({"id": self.waba_id, "changes": [change]})

    def items(
        self, key: str, parse_item: Callable[..., WhatsAppEvent], **options: Any
    ) -> list[WhatsAppEvent]:
        items = self.value.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            envelope = self.envelope(None, None, None)
            envelope["entry"][0]["changes"][0]["value"][key] = items
            return [_malformed(items, envelope, self.origin, f"`{key}` is not a list")]
        events: list[WhatsAppEvent] = []
        for item in items:
            try:
                events.append(parse_item(item, key, **options))
            except Exception as error:  # see _guarded: one item never sinks the batch
                envelope = self.envelope(key, item, None)
                events.append(
                    _malformed(item, envelope, self.origin, f"could not be read: {error!r}")
                )
        return events

    def messages_change(self) -> list[WhatsAppEvent]:
        events = self.items("messages", self.message, echo=False)
        events += self.items("statuses", self.status)
        events += self.items("errors", self.error)
        if not events:
            # Nothing we read, but a change is never silently dropped.
            events.append(
                OtherChange(
                    dedup_key=f"{PROVIDER}:change:messages:{_digest(self.value)}",
                    raw=self.value,
                    envelope=self.whole_envelope(),
                    origin=self.origin,
                    flags=frozenset({EventFlag.UNKNOWN}),
                    problems=("a messages change with no messages, statuses or errors",),
                    field_name="messages",
                )
            )
        return events

    def contact_for(self, sender: str | None, sender_user_id: str | None) -> dict[str, Any] | None:
        for contact in self.contacts:
            if sender is not None and _text(contact.get("wa_id")) == sender:
                return contact
            if sender_user_id is not None and _text(contact.get("user_id")) == sender_user_id:
                return contact
        if sender is None and sender_user_id is None and len(self.contacts) == 1:
            return self.contacts[0]
        return None

    # --- items -----------------------------------------------------------------------------

    def message(self, item: Json, key: str, *, echo: bool) -> WhatsAppEvent:
        if not isinstance(item, dict):
            return _malformed(item, self.envelope(key, item, None), self.origin, "not an object")
        problems: list[str] = []
        flags: set[EventFlag] = set()
        message_id = _text(item.get("id"))
        message_type = _text(item.get("type")) or ""
        sender = _text(item.get("from"))
        sender_user_id = _text(item.get("from_user_id"))
        timestamp = _timestamp(item.get("timestamp"))
        if message_id is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no id")
        if timestamp is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no readable timestamp")
        if sender is None and sender_user_id is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no sender (`from` or `from_user_id`)")
        content, content_flag, content_problem = _content(message_type, item)
        if content_flag is not None:
            flags.add(content_flag)
            problems.append(content_problem)
        contact = None if echo else self.contact_for(sender, sender_user_id)
        key_id = message_id if message_id is not None else f"sha256:{_digest(item)}"
        known_keys = _COMMON_MESSAGE_KEYS | {message_type}
        return InboundMessage(
            dedup_key=f"{PROVIDER}:message:{key_id}",
            raw=item,
            envelope=self.envelope(key, item, contact),
            origin=self.origin,
            flags=frozenset(flags),
            problems=tuple(problems),
            message_id=message_id or "",
            message_type=message_type,
            timestamp=timestamp,
            from_wa_id=sender,
            from_user_id=sender_user_id,
            sender=_profile(contact) if contact is not None else None,
            content=content,
            context=_context(item.get("context")),
            referral=_referral(item.get("referral")),
            errors=_errors(item.get("errors")),
            group_id=_text(item.get("group_id")),
            echo_to=(_text(item.get("to")) or "") if echo else None,
            unknown_keys=tuple(sorted(k for k in item if k not in known_keys)),
        )

    def status(self, item: Json, key: str) -> WhatsAppEvent:
        if not isinstance(item, dict):
            return _malformed(item, self.envelope(key, item, None), self.origin, "not an object")
        problems: list[str] = []
        flags: set[EventFlag] = set()
        message_id = _text(item.get("id"))
        status = _text(item.get("status"))
        timestamp = _timestamp(item.get("timestamp"))
        if message_id is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("status has no message id")
        if status is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("status has no `status` value")
        elif status not in KNOWN_STATUSES:
            flags.add(EventFlag.UNKNOWN)
            problems.append(f"status value {status!r} is not known")
        if timestamp is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("status has no readable timestamp")
        recipient = _text(item.get("recipient_id"))
        if message_id is None or status is None:
            dedup_key = f"{PROVIDER}:status:sha256:{_digest(item)}"
        else:
            dedup_key = f"{PROVIDER}:status:{message_id}:{status}"
        return StatusUpdate(
            dedup_key=dedup_key,
            raw=item,
            envelope=self.envelope(key, item, self.contact_for(recipient, None)),
            origin=self.origin,
            flags=frozenset(flags),
            problems=tuple(problems),
            message_id=message_id or "",
            status=status or "",
            timestamp=timestamp,
            recipient_id=recipient,
            callback_data=_text(item.get("biz_opaque_callback_data")),
            errors=_errors(item.get("errors")),
            conversation=_conversation(item.get("conversation")),
            pricing=_pricing(item.get("pricing")),
        )

    def error(self, item: Json, key: str) -> WhatsAppEvent:
        # An error has no id of its own; it is keyed by its content and the messages it
        # came with, so a redelivered POST dedups while distinct errors stay apart.
        messages = self.value.get("messages")
        companions = (
            [_text(m.get("id")) for m in messages if isinstance(m, dict)]
            if isinstance(messages, list)
            else []
        )
        errors = _errors([item])
        flags = frozenset() if errors else frozenset({EventFlag.MALFORMED})
        return OutOfBandError(
            dedup_key=f"{PROVIDER}:error:{_digest([item, companions])}",
            raw=item,
            envelope=self.envelope(key, item, None),
            origin=self.origin,
            flags=flags,
            problems=("error is not an object",) if flags else (),
            error=errors[0] if errors else ProviderError(None, ""),
        )


# --- content by type -------------------------------------------------------------------

ContentResult = tuple[MessageContent, EventFlag | None, str]


def _content(message_type: str, item: dict[str, Any]) -> ContentResult:
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
    def read(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
        content = MediaContent(
            kind=kind,
            media_id=_text(payload.get("id")),
            mime_type=_text(payload.get("mime_type")),
            sha256=_text(payload.get("sha256")),
            caption=_text(payload.get("caption")),
            filename=_text(payload.get("filename")),
            voice=_bool(payload.get("voice")),
            animated=_bool(payload.get("animated")),
            url=_text(payload.get("url")),
        )
        if content.media_id is None and content.url is None:
            return content, EventFlag.MALFORMED, f"{kind} without a media id"
        return content, None, ""

    return read


def _location(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    latitude, longitude = _number(payload.get("latitude")), _number(payload.get("longitude"))
    if latitude is None or longitude is None:
        return NoContent("location"), EventFlag.MALFORMED, "location without coordinates"
    return (
        LocationContent(
            latitude=latitude,
            longitude=longitude,
            name=_text(payload.get("name")),
            address=_text(payload.get("address")),
            url=_text(payload.get("url")),
        ),
        None,
        "",
    )


def _contacts(payload: Any, _: dict[str, Any]) -> ContentResult:
    cards = []
    for card in payload if isinstance(payload, list) else []:
        if not isinstance(card, dict):
            continue
        name = _object(card.get("name"))
        phones = [p for p in card.get("phones") or [] if isinstance(p, dict)]
        emails = [e for e in card.get("emails") or [] if isinstance(e, dict)]
        cards.append(
            SharedContact(
                formatted_name=_text(name.get("formatted_name")),
                phones=tuple(t for p in phones if (t := _text(p.get("phone")))),
                wa_ids=tuple(t for p in phones if (t := _text(p.get("wa_id")))),
                emails=tuple(t for e in emails if (t := _text(e.get("email")))),
                raw=card,
            )
        )
    return ContactsContent(tuple(cards)), None, ""


def _interactive(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    reply_type = _text(payload.get("type")) or ""
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
            reply_id=_text(reply.get("id")),
            title=_text(reply.get("title")),
            description=_text(reply.get("description")),
        )
        return content, None, ""
    if reply_type == "nfm_reply":
        content = InteractiveReplyContent(
            reply_type=reply_type,
            reply_id=_text(reply.get("name")),
            title=_text(reply.get("body")),
            response_json=_text(reply.get("response_json")),
        )
        return content, None, ""
    if reply_type == "call_permission_reply":
        content = InteractiveReplyContent(
            reply_type=reply_type, reply_id=_text(reply.get("response"))
        )
        return content, None, ""
    content = InteractiveReplyContent(reply_type=reply_type, reply_id=None)
    return content, EventFlag.UNKNOWN, f"interactive reply type {reply_type!r} is not known"


def _button(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return ButtonContent(_text(payload.get("payload")), _text(payload.get("text"))), None, ""


def _reaction(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    # One provider sample misspells the key as `messsage_id`; read both.
    target = _text(payload.get("message_id")) or _text(payload.get("messsage_id"))
    return ReactionContent(target, _text(payload.get("emoji"))), None, ""


def _order(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    items = tuple(
        OrderItem(
            product_retailer_id=_text(i.get("product_retailer_id")),
            quantity=_number(i.get("quantity")),
            item_price=_number(i.get("item_price")),
            currency=_text(i.get("currency")),
        )
        for i in payload.get("product_items") or []
        if isinstance(i, dict)
    )
    return (
        OrderContent(_text(payload.get("catalog_id")), _text(payload.get("text")), items),
        None,
        "",
    )


def _system(payload: dict[str, Any], item: dict[str, Any]) -> ContentResult:
    system_type = _text(payload.get("type")) or ""
    identity = _object(item.get("identity"))
    content = SystemContent(
        system_type=system_type,
        body=_text(payload.get("body")),
        new_wa_id=_text(payload.get("wa_id")) or _text(payload.get("new_wa_id")),
        new_user_id=_text(payload.get("user_id")),
        previous_user_id=_text(payload.get("previous_user_id")),
        identity_hash=_text(identity.get("hash")) or _text(payload.get("identity")),
    )
    if system_type not in SYSTEM_TYPES:
        return content, EventFlag.UNKNOWN, f"system message type {system_type!r} is not known"
    if system_type in ("user_changed_number", "customer_changed_number") and not content.new_wa_id:
        return content, EventFlag.MALFORMED, "number change without the new wa_id"
    return content, None, ""


def _unsupported(payload: Any, _: dict[str, Any]) -> ContentResult:
    kind = _text(payload.get("type")) if isinstance(payload, dict) else None
    return UnsupportedContent(kind), None, ""


def _request_welcome(_: Any, __: dict[str, Any]) -> ContentResult:
    return NoContent("request_welcome"), None, ""


def _edit(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return EditContent(_text(payload.get("original_message_id")), payload.get("message")), None, ""


def _revoke(payload: dict[str, Any], _: dict[str, Any]) -> ContentResult:
    return RevokeContent(_text(payload.get("original_message_id"))), None, ""


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


def _profile(contact: dict[str, Any]) -> SenderProfile:
    profile = _object(contact.get("profile"))
    return SenderProfile(
        wa_id=_text(contact.get("wa_id")),
        name=_text(profile.get("name")),
        user_id=_text(contact.get("user_id")),
        username=_text(profile.get("username")),
    )


def _context(raw: Json) -> MessageContext | None:
    if not isinstance(raw, dict):
        return None
    product = _object(raw.get("referred_product"))
    return MessageContext(
        replied_to_id=_text(raw.get("id")),
        replied_to_from=_text(raw.get("from")),
        forwarded=raw.get("forwarded") is True,
        frequently_forwarded=raw.get("frequently_forwarded") is True,
        referred_product_id=_text(product.get("product_retailer_id")),
        referred_catalog_id=_text(product.get("catalog_id")),
    )


def _referral(raw: Json) -> Referral | None:
    if not isinstance(raw, dict):
        return None
    return Referral(
        source_url=_text(raw.get("source_url")),
        source_id=_text(raw.get("source_id")),
        source_type=_text(raw.get("source_type")),
        headline=_text(raw.get("headline")),
        body=_text(raw.get("body")),
        media_type=_text(raw.get("media_type")),
        ctwa_clid=_text(raw.get("ctwa_clid")),
        raw=raw,
    )


def _errors(raw: Json) -> tuple[ProviderError, ...]:
    if not isinstance(raw, list):
        return ()
    errors = []
    for error in raw:
        if not isinstance(error, dict):
            continue
        data = _object(error.get("error_data"))
        code = error.get("code")
        errors.append(
            ProviderError(
                code=_integer(code),
                title=_text(error.get("title")) or _text(error.get("message")) or "",
                details=_text(data.get("details")) or "",
                href=_text(error.get("href")),
            )
        )
    return tuple(errors)


def _conversation(raw: Json) -> ConversationInfo | None:
    if not isinstance(raw, dict):
        return None
    origin = _object(raw.get("origin"))
    return ConversationInfo(
        id=_text(raw.get("id")),
        origin_type=_text(origin.get("type")),
        expiration_timestamp=_timestamp(raw.get("expiration_timestamp")),
    )


def _pricing(raw: Json) -> PricingInfo | None:
    if not isinstance(raw, dict):
        return None
    return PricingInfo(
        billable=_bool(raw.get("billable")),
        pricing_model=_text(raw.get("pricing_model")),
        category=_text(raw.get("category")),
        pricing_type=_text(raw.get("type")) or _text(raw.get("pricing_type")),
    )


# --- scalar readers: ids are strings, timestamps strings or ints -------------------------


def _text(value: Json) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # template ids arrive as integers; ids are kept as text
    return None


def _timestamp(value: Json) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _integer(value: Json) -> int | None:
    return _timestamp(value)


def _number(value: Json) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _object(value: Json) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bool(value: Json) -> bool | None:
    return value if isinstance(value, bool) else None


def _digest(value: Json) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _wrap_entry(entry: Json) -> dict[str, Any]:
    return {"object": OBJECT, "entry": [entry]}


def _malformed(raw: Json, envelope: Json, origin: Origin | None, problem: str) -> MalformedPayload:
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return MalformedPayload(
        dedup_key=f"{PROVIDER}:malformed:{_digest(raw)}",
        raw=raw,
        envelope=envelope,
        origin=origin,
        flags=frozenset({EventFlag.MALFORMED}),
        problems=(problem,),
        body_text=text,
    )
