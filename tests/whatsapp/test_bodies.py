"""Each outbound kind becomes the exact request body of the reference (section 7)."""

from __future__ import annotations

import pytest

from connectors.whatsapp.bodies import request_body
from engine.core.messaging import (
    CurrencyParameter,
    ListRow,
    ListSection,
    MarkAsRead,
    MediaParameter,
    OutboundButtons,
    OutboundList,
    OutboundMedia,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    PayloadParameter,
    ReplyButton,
    TemplateButton,
    TextParameter,
)

TO = "16505551234"


def test_text() -> None:
    assert request_body(OutboundText(TO, "Your order has shipped."), "key-1") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"preview_url": False, "body": "Your order has shipped."},
        "biz_opaque_callback_data": "key-1",
    }


def test_reply_to_and_own_callback_data_win() -> None:
    body = request_body(OutboundText(TO, "yes", reply_to="wamid.q", callback_data="mine"), "key-1")
    assert body["context"] == {"message_id": "wamid.q"}
    assert body["biz_opaque_callback_data"] == "mine"


def test_no_key_no_callback_data() -> None:
    assert "biz_opaque_callback_data" not in request_body(OutboundText(TO, "x"))


def test_template_with_header_body_and_buttons() -> None:
    message = OutboundTemplate(
        TO,
        "order_update",
        "en_US",
        header=(MediaParameter("image", link="https://example.com/p.jpg"),),
        body=(
            TextParameter("Amina"),
            CurrencyParameter("KES 1,200", "KES", 1_200_000),
        ),
        buttons=(
            TemplateButton(0, "quick_reply", (PayloadParameter("confirm:order-9"),)),
            TemplateButton(1, "url", (TextParameter("order-9"),)),
        ),
    )
    assert request_body(message)["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "header",
                "parameters": [{"type": "image", "image": {"link": "https://example.com/p.jpg"}}],
            },
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Amina"},
                    {
                        "type": "currency",
                        "currency": {
                            "fallback_value": "KES 1,200",
                            "code": "KES",
                            "amount_1000": 1200000,
                        },
                    },
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "confirm:order-9"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "1",
                "parameters": [{"type": "text", "text": "order-9"}],
            },
        ],
    }
    assert request_body(message)["type"] == "template"


def test_template_without_parameters_and_with_named_ones() -> None:
    assert request_body(OutboundTemplate(TO, "hello_world", "en_US"))["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }
    named = OutboundTemplate(TO, "t", "en", body=(TextParameter("Amina", name="first_name"),))
    parameter = request_body(named)["template"]["components"][0]["parameters"][0]
    assert parameter == {"type": "text", "text": "Amina", "parameter_name": "first_name"}


def test_document_header_by_id_keeps_filename() -> None:
    message = OutboundTemplate(
        TO, "invoice", "en", header=(MediaParameter("document", media_id="77", filename="inv.pdf"),)
    )
    header = request_body(message)["template"]["components"][0]["parameters"][0]
    assert header == {"type": "document", "document": {"id": "77", "filename": "inv.pdf"}}


def test_media_by_id_and_by_link() -> None:
    document = OutboundMedia(
        TO, "document", media_id="123", caption="Invoice", filename="invoice.pdf"
    )
    body = request_body(document)
    assert (body["type"], body["document"]) == (
        "document",
        {"id": "123", "caption": "Invoice", "filename": "invoice.pdf"},
    )
    audio = request_body(OutboundMedia(TO, "audio", link="https://x/a.ogg", caption="ignored"))
    assert audio["audio"] == {"link": "https://x/a.ogg"}


def test_media_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        OutboundMedia(TO, "image")
    with pytest.raises(ValueError):
        OutboundMedia(TO, "image", link="https://x", media_id="1")


def test_reply_buttons() -> None:
    message = OutboundButtons(
        TO,
        "Confirm your booking?",
        (ReplyButton("yes:bk-1", "Yes"), ReplyButton("no:bk-1", "No")),
        footer="Kazi Clinic",
    )
    assert request_body(message)["interactive"] == {
        "type": "button",
        "body": {"text": "Confirm your booking?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes:bk-1", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no:bk-1", "title": "No"}},
            ]
        },
        "footer": {"text": "Kazi Clinic"},
    }


def test_list() -> None:
    message = OutboundList(
        TO,
        "Pick a slot",
        "Slots",
        (
            ListSection(
                "Tuesday", (ListRow("slot-1", "09:00", "Clinic A"), ListRow("slot-2", "10:00"))
            ),
        ),
        header_text="Bookings",
    )
    body = request_body(message)
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "Pick a slot"},
        "action": {
            "button": "Slots",
            "sections": [
                {
                    "title": "Tuesday",
                    "rows": [
                        {"id": "slot-1", "title": "09:00", "description": "Clinic A"},
                        {"id": "slot-2", "title": "10:00"},
                    ],
                }
            ],
        },
        "header": {"type": "text", "text": "Bookings"},
    }


def test_reaction() -> None:
    body = request_body(OutboundReaction(TO, "wamid.m", "👍"))
    assert (body["type"], body["reaction"]) == (
        "reaction",
        {"message_id": "wamid.m", "emoji": "👍"},
    )


def test_mark_as_read_with_and_without_typing() -> None:
    assert request_body(MarkAsRead("wamid.in"), "k") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.in",
    }
    assert request_body(MarkAsRead("wamid.in", typing_indicator=True))["typing_indicator"] == {
        "type": "text"
    }
