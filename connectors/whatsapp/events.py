"""Typed provider events: what one WhatsApp webhook POST says, item by item.

Every event carries a `dedup_key` (DESIGN rule 2: provider + message/status id +
status), the `raw` JSON fragment it came from, and a single-item `envelope` — a
complete webhook body holding just this item — so the engine can store one row per
event and re-parse it later with `parse_envelope(event.envelope)` to the same event.

Nothing here is interpreted business-wise: a number change is reported as what it
is; the engine decides what it means for contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROVIDER = "whatsapp"

Json = Any  # a decoded JSON value; kept loose on purpose, the raw payload is untrusted


class EventFlag(StrEnum):
    UNKNOWN = "unknown"  # a type, field or status value this parser does not know
    MALFORMED = "malformed"  # the shape is broken (missing id, wrong types, bad JSON)


@dataclass(frozen=True)
class Origin:
    """Where in the envelope the item sat: route to a workspace by `phone_number_id`."""

    waba_id: str | None
    field: str | None
    phone_number_id: str | None = None
    display_phone_number: str | None = None


@dataclass(frozen=True)
class ProviderError:
    code: int | None
    title: str
    details: str = ""
    href: str | None = None


@dataclass(frozen=True)
class SenderProfile:
    """`value.contacts[]`: who a message is from, as WhatsApp knows them."""

    wa_id: str | None
    name: str | None = None
    user_id: str | None = None  # business-scoped user id (BSUID, 2026)
    username: str | None = None


# --- message content, one class a type -------------------------------------------------


@dataclass(frozen=True)
class TextContent:
    body: str


@dataclass(frozen=True)
class MediaContent:
    """image, audio, video, document or sticker: a media id to download, never the file."""

    kind: str
    media_id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None  # audio: a recorded voice note
    animated: bool | None = None  # sticker
    url: str | None = None  # some payloads include a short-lived download URL


@dataclass(frozen=True)
class LocationContent:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SharedContact:
    formatted_name: str | None
    phones: tuple[str, ...] = ()
    wa_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    raw: Json = None


@dataclass(frozen=True)
class ContactsContent:
    contacts: tuple[SharedContact, ...]


@dataclass(frozen=True)
class InteractiveReplyContent:
    """A tap on reply buttons (`button_reply`), a list row (`list_reply`) or a flow reply."""

    reply_type: str  # "button_reply" | "list_reply" | "nfm_reply" | ...
    reply_id: str | None  # the id we set when sending: the machine-readable answer
    title: str | None = None
    description: str | None = None
    response_json: str | None = None  # nfm_reply: a JSON string inside the JSON


@dataclass(frozen=True)
class ButtonContent:
    """A tap on a template quick-reply button."""

    payload: str | None
    text: str | None


@dataclass(frozen=True)
class ReactionContent:
    message_id: str | None  # the message reacted to (ours or the customer's)
    emoji: str | None  # None or "" means the reaction was removed

    @property
    def removed(self) -> bool:
        return not self.emoji


@dataclass(frozen=True)
class OrderItem:
    product_retailer_id: str | None
    quantity: float | None
    item_price: float | None
    currency: str | None


@dataclass(frozen=True)
class OrderContent:
    catalog_id: str | None
    text: str | None
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class SystemContent:
    """Number or identity changes. For `user_changed_number`, the message's `from` is the
    OLD number and `new_wa_id` the new one."""

    system_type: str  # user_changed_number | user_changed_user_id | customer_identity_changed
    body: str | None = None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    previous_user_id: str | None = None
    identity_hash: str | None = None


@dataclass(frozen=True)
class UnsupportedContent:
    """A type WhatsApp itself cannot hand to the API (polls, view-once...)."""

    unsupported_type: str | None


@dataclass(frozen=True)
class EditContent:
    original_message_id: str | None
    new_content: Json = None


@dataclass(frozen=True)
class RevokeContent:
    original_message_id: str | None


@dataclass(frozen=True)
class NoContent:
    """A type with no payload (`request_welcome`), or one we could not read: see `raw`."""

    type_name: str


MessageContent = (
    TextContent
    | MediaContent
    | LocationContent
    | ContactsContent
    | InteractiveReplyContent
    | ButtonContent
    | ReactionContent
    | OrderContent
    | SystemContent
    | UnsupportedContent
    | EditContent
    | RevokeContent
    | NoContent
)


@dataclass(frozen=True)
class MessageContext:
    """Reply (`replied_to_id`), forward flags, or a product enquiry."""

    replied_to_id: str | None = None
    replied_to_from: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product_id: str | None = None
    referred_catalog_id: str | None = None


@dataclass(frozen=True)
class Referral:
    """Click-to-WhatsApp ad attribution on the first message after the click."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    ctwa_clid: str | None = None
    raw: Json = None


@dataclass(frozen=True)
class ConversationInfo:
    id: str | None
    origin_type: str | None
    expiration_timestamp: int | None


@dataclass(frozen=True)
class PricingInfo:
    billable: bool | None
    pricing_model: str | None
    category: str | None
    pricing_type: str | None


# --- the events --------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppEvent:
    dedup_key: str
    raw: Json  # the item exactly as received (a message, a status, an error, a change value)
    envelope: Json  # a whole webhook body holding only this item; None for unreadable JSON
    origin: Origin | None
    flags: frozenset[EventFlag] = frozenset()
    problems: tuple[str, ...] = ()  # why it is flagged, in words

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class InboundMessage(WhatsAppEvent):
    message_id: str = ""
    message_type: str = ""
    timestamp: int | None = None  # provider time, epoch seconds: order by this
    from_wa_id: str | None = None
    from_user_id: str | None = None
    sender: SenderProfile | None = None
    content: MessageContent = field(default_factory=lambda: NoContent(""))
    context: MessageContext | None = None
    referral: Referral | None = None
    errors: tuple[ProviderError, ...] = ()
    group_id: str | None = None
    echo_to: str | None = None  # set on coexistence echoes: sent by the business app to this id
    unknown_keys: tuple[str, ...] = ()  # top-level keys we do not read (kept in `raw`)

    @property
    def is_echo(self) -> bool:
        return self.echo_to is not None


KNOWN_STATUSES = ("sent", "delivered", "read", "played", "failed", "deleted")


@dataclass(frozen=True)
class StatusUpdate(WhatsAppEvent):
    message_id: str = ""
    status: str = ""  # raw value; one of KNOWN_STATUSES unless flagged unknown
    timestamp: int | None = None
    recipient_id: str | None = None
    callback_data: str | None = None  # biz_opaque_callback_data: our idempotency key
    errors: tuple[ProviderError, ...] = ()
    conversation: ConversationInfo | None = None
    pricing: PricingInfo | None = None


@dataclass(frozen=True)
class OutOfBandError(WhatsAppEvent):
    """`value.errors[]`: a problem not tied to one message (rate limit, bad payload)."""

    error: ProviderError = field(default_factory=lambda: ProviderError(None, ""))


@dataclass(frozen=True)
class OtherChange(WhatsAppEvent):
    """A change of another subscription field (template status, account update...).

    Stored, not applied; flagged unknown when the field is not one Meta documents.
    """

    field_name: str = ""


@dataclass(frozen=True)
class MalformedPayload(WhatsAppEvent):
    """A body (or a part of one) that is not a readable webhook."""

    body_text: str = ""
