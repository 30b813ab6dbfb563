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

from connectors.whatsapp import reading as read
from connectors.whatsapp.contents import (
    read_content,
    read_context,
    read_conversation,
    read_errors,
    read_pricing,
    read_profile,
    read_referral,
)
from connectors.whatsapp.events import (
    KNOWN_STATUSES,
    PROVIDER,
    EventFlag,
    InboundMessage,
    Json,
    MalformedPayload,
    Origin,
    OtherChange,
    OutOfBandError,
    ProviderError,
    StatusUpdate,
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
    waba_id = read.text(entry.get("id"))
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
    field_name = read.text(change.get("field")) or ""
    value: dict[str, Any] = change["value"]
    metadata = read.mapping(value.get("metadata"))
    origin = Origin(
        waba_id=waba_id,
        field=field_name,
        phone_number_id=read.text(metadata.get("phone_number_id")),
        display_phone_number=read.text(metadata.get("display_phone_number")),
    )
    scope = _Scope(waba_id, field_name, value, origin)
    if field_name == "messages":
        return scope.messages_change()
    if field_name == "smb_message_echoes":
        return scope.items("message_echoes", scope.message, echo=True)
    flags = frozenset() if field_name in KNOWN_OTHER_FIELDS else frozenset({EventFlag.UNKNOWN})
    return [
        OtherChange(
            dedup_key=f"{PROVIDER}:change:{field_name}:{read.digest(value)}",
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
                    dedup_key=f"{PROVIDER}:change:messages:{read.digest(self.value)}",
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
            if sender is not None and read.text(contact.get("wa_id")) == sender:
                return contact
            if sender_user_id is not None and read.text(contact.get("user_id")) == sender_user_id:
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
        message_id = read.text(item.get("id"))
        message_type = read.text(item.get("type")) or ""
        sender = read.text(item.get("from"))
        sender_user_id = read.text(item.get("from_user_id"))
        timestamp = read.timestamp(item.get("timestamp"))
        if message_id is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no id")
        if timestamp is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no readable timestamp")
        if sender is None and sender_user_id is None:
            flags.add(EventFlag.MALFORMED)
            problems.append("message has no sender (`from` or `from_user_id`)")
        content, content_flag, content_problem = read_content(message_type, item)
        if content_flag is not None:
            flags.add(content_flag)
            problems.append(content_problem)
        contact = None if echo else self.contact_for(sender, sender_user_id)
        key_id = message_id if message_id is not None else f"sha256:{read.digest(item)}"
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
            sender=read_profile(contact) if contact is not None else None,
            content=content,
            context=read_context(item.get("context")),
            referral=read_referral(item.get("referral")),
            errors=read_errors(item.get("errors")),
            group_id=read.text(item.get("group_id")),
            echo_to=(read.text(item.get("to")) or "") if echo else None,
            unknown_keys=tuple(sorted(k for k in item if k not in known_keys)),
        )

    def status(self, item: Json, key: str) -> WhatsAppEvent:
        if not isinstance(item, dict):
            return _malformed(item, self.envelope(key, item, None), self.origin, "not an object")
        problems: list[str] = []
        flags: set[EventFlag] = set()
        message_id = read.text(item.get("id"))
        status = read.text(item.get("status"))
        timestamp = read.timestamp(item.get("timestamp"))
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
        recipient = read.text(item.get("recipient_id"))
        if message_id is None or status is None:
            dedup_key = f"{PROVIDER}:status:sha256:{read.digest(item)}"
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
            callback_data=read.text(item.get("biz_opaque_callback_data")),
            errors=read_errors(item.get("errors")),
            conversation=read_conversation(item.get("conversation")),
            pricing=read_pricing(item.get("pricing")),
        )

    def error(self, item: Json, key: str) -> WhatsAppEvent:
        # An error has no id of its own; it is keyed by its content and the messages it
        # came with, so a redelivered POST dedups while distinct errors stay apart.
        messages = self.value.get("messages")
        companions = (
            [read.text(m.get("id")) for m in messages if isinstance(m, dict)]
            if isinstance(messages, list)
            else []
        )
        errors = read_errors([item])
        flags = frozenset() if errors else frozenset({EventFlag.MALFORMED})
        return OutOfBandError(
            dedup_key=f"{PROVIDER}:error:{read.digest([item, companions])}",
            raw=item,
            envelope=self.envelope(key, item, None),
            origin=self.origin,
            flags=flags,
            problems=("error is not an object",) if flags else (),
            error=errors[0] if errors else ProviderError(None, ""),
        )


def _wrap_entry(entry: Json) -> dict[str, Any]:
    return {"object": OBJECT, "entry": [entry]}


def _malformed(raw: Json, envelope: Json, origin: Origin | None, problem: str) -> MalformedPayload:
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return MalformedPayload(
        dedup_key=f"{PROVIDER}:malformed:{read.digest(raw)}",
        raw=raw,
        envelope=envelope,
        origin=origin,
        flags=frozenset({EventFlag.MALFORMED}),
        problems=(problem,),
        body_text=text,
    )
