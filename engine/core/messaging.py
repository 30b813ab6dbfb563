"""Sending messages as a port: what the engine asks a messaging provider to do.

The outbound message kinds are plain, immutable data; a provider adapter turns them
into its own request bodies. A send answers with one of three results, because a
CRM must tell apart "the provider took it", "the provider refused it" and "we do not
know" (a timeout after the request left us: retrying blindly could send twice, so
the caller reconciles instead).

Standard library only: `engine.core` is the pure heart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

MediaKind = Literal["image", "audio", "video", "document", "sticker"]
HeaderMediaKind = Literal["image", "video", "document"]
ButtonSubType = Literal["quick_reply", "url", "copy_code"]


# --- template parameters -------------------------------------------------------------


@dataclass(frozen=True)
class TextParameter:
    """A `{{n}}` (or named `{{first_name}}`) placeholder filled with text."""

    text: str
    name: str | None = None  # set for named placeholders


@dataclass(frozen=True)
class CurrencyParameter:
    fallback_value: str  # what old clients show, e.g. "KES 1,200"
    code: str  # ISO 4217
    amount_1000: int  # the amount times 1000: KES 1,200 -> 1_200_000
    name: str | None = None


@dataclass(frozen=True)
class MediaParameter:
    """A header image, video or document: by public link or by uploaded media id."""

    kind: HeaderMediaKind
    link: str | None = None
    media_id: str | None = None
    filename: str | None = None  # documents only

    def __post_init__(self) -> None:
        if (self.link is None) == (self.media_id is None):
            raise ValueError("a media parameter needs exactly one of link or media_id")


@dataclass(frozen=True)
class PayloadParameter:
    """What a quick-reply button sends back when tapped (arrives as a `button` message)."""

    payload: str


TemplateParameter = TextParameter | CurrencyParameter | MediaParameter | PayloadParameter


@dataclass(frozen=True)
class TemplateButton:
    index: int  # the button's position in the approved template
    sub_type: ButtonSubType
    parameters: tuple[TemplateParameter, ...]


# --- outbound messages -----------------------------------------------------------------


@dataclass(frozen=True)
class OutboundText:
    to: str  # the recipient's WhatsApp id: digits, country code first, no "+"
    body: str
    preview_url: bool = False
    reply_to: str | None = None  # provider id of the message this quotes
    callback_data: str | None = None  # echoed back on every status of this message


@dataclass(frozen=True)
class OutboundTemplate:
    to: str
    name: str
    language: str  # must match an approved translation exactly ("en" is not "en_US")
    header: tuple[TemplateParameter, ...] = ()
    body: tuple[TemplateParameter, ...] = ()
    buttons: tuple[TemplateButton, ...] = ()
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class OutboundMedia:
    to: str
    kind: MediaKind
    link: str | None = None
    media_id: str | None = None
    caption: str | None = None  # not for audio or stickers
    filename: str | None = None  # documents only
    reply_to: str | None = None
    callback_data: str | None = None

    def __post_init__(self) -> None:
        if (self.link is None) == (self.media_id is None):
            raise ValueError("a media message needs exactly one of link or media_id")


@dataclass(frozen=True)
class ReplyButton:
    id: str  # comes back as `button_reply.id` when tapped
    title: str


@dataclass(frozen=True)
class OutboundButtons:
    """Up to three reply buttons under a text (only inside the 24-hour window)."""

    to: str
    body: str
    buttons: tuple[ReplyButton, ...]
    header_text: str | None = None
    footer: str | None = None
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class ListRow:
    id: str  # comes back as `list_reply.id` when picked
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    title: str
    rows: tuple[ListRow, ...]


@dataclass(frozen=True)
class OutboundList:
    """A list picker: a button label that opens sections of rows."""

    to: str
    body: str
    button: str
    sections: tuple[ListSection, ...]
    header_text: str | None = None
    footer: str | None = None
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class OutboundReaction:
    to: str
    message_id: str  # the message reacted to
    emoji: str  # "" removes the reaction
    callback_data: str | None = None


@dataclass(frozen=True)
class OutboundLocation:
    """A pin on the map, with an optional place name and address."""

    to: str
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class OutboundContact:
    """A contact card: a person's name and phone number, which the customer can save."""

    to: str
    name: str
    phone: str  # as written; WhatsApp links it when it is a WhatsApp number
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class MarkAsRead:
    """Blue ticks on a received message (and every earlier one in that chat)."""

    message_id: str
    typing_indicator: bool = False


OutboundMessage = (
    OutboundText
    | OutboundTemplate
    | OutboundMedia
    | OutboundButtons
    | OutboundList
    | OutboundReaction
    | OutboundLocation
    | OutboundContact
    | MarkAsRead
)

# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SendAccepted:
    """The provider took the message. Accepted is not delivered: statuses follow."""

    provider_message_id: str | None  # the wamid; None for mark-as-read, which has none
    recipient_id: str | None = None  # the id the provider will use in statuses
    provider_status: str | None = None  # e.g. "accepted", "held_for_quality_assessment"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SendFailure:
    """The provider (or the network, before the request reached it) refused the send.

    `retryable` says whether the same send may succeed later unchanged; a permanent
    failure needs a person or a different message (a template, fixed parameters).
    """

    retryable: bool
    code: str  # the provider's code ("131047"), or "http_503" / "network" when it gave none
    meaning: str  # for staff: what happened and what to do
    detail: str = ""  # the provider's own words, kept verbatim
    http_status: int | None = None
    retry_after_seconds: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SendOutcomeUnknown:
    """The request may have reached the provider but no answer came back (a timeout).

    Not a failure: the message may have been sent. Resending could deliver it twice,
    so the caller keeps the idempotency key and reconciles (a status callback carrying
    the key, or an explicit decision by a person).
    """

    reason: str
    detail: str = ""


SendResult = SendAccepted | SendFailure | SendOutcomeUnknown


class MessageSender(Protocol):
    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        """Hand one message to the provider, once.

        `idempotency_key` belongs to the caller's outbox row; the adapter attaches it
        to the message where the provider echoes it back (so a status can be matched
        to the outbox row even before the provider id is stored). Never raises for a
        provider or network problem: those are results.
        """
        ...
