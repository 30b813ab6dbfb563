"""WhatsApp Cloud API connector: signatures, webhook parsing, the sender, the simulator."""

from connectors.whatsapp.client import CloudApiSender
from connectors.whatsapp.errors import classify
from connectors.whatsapp.events import (
    EventFlag,
    InboundMessage,
    MalformedPayload,
    OtherChange,
    OutOfBandError,
    StatusUpdate,
    WhatsAppEvent,
)
from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.numbers import equivalent_wa_ids
from connectors.whatsapp.parse import parse_envelope, parse_webhook
from connectors.whatsapp.signature import (
    SignatureVerdict,
    sign,
    verification_handshake,
    verify_signature,
)

__all__ = [
    "CloudApiSender",
    "EventFlag",
    "FakeSender",
    "InboundMessage",
    "MalformedPayload",
    "OtherChange",
    "OutOfBandError",
    "SignatureVerdict",
    "StatusUpdate",
    "WhatsAppEvent",
    "classify",
    "equivalent_wa_ids",
    "parse_envelope",
    "parse_webhook",
    "sign",
    "verification_handshake",
    "verify_signature",
]
