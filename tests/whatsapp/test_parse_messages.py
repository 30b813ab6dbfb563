"""Every inbound message type of the reference parses to its typed content."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.whatsapp.events import (
    ButtonContent,
    ContactsContent,
    EventFlag,
    InboundMessage,
    InteractiveReplyContent,
    LocationContent,
    MediaContent,
    NoContent,
    OrderContent,
    ReactionContent,
    SystemContent,
    TextContent,
    UnsupportedContent,
)
from connectors.whatsapp.parse import parse_envelope, parse_webhook
from tests.whatsapp import payloads as p


def one_message(message: dict[str, Any], **options: Any) -> InboundMessage:
    events = parse_webhook(p.body(p.message_webhook(message, **options)))
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, InboundMessage)
    return event


def test_text_with_sender_profile_origin_and_dedup_key() -> None:
    event = one_message(p.TEXT)
    assert event.content == TextContent("Does it come in another color?")
    assert event.message_id == p.TEXT["id"]
    assert event.dedup_key == f"whatsapp:message:{p.TEXT['id']}"
    assert event.timestamp == 1749416383
    assert event.from_wa_id == p.SENDER
    assert event.sender is not None
    assert (event.sender.wa_id, event.sender.name) == (p.SENDER, "Sheena Nelson")
    assert event.origin is not None
    assert event.origin.phone_number_id == p.PHONE_NUMBER_ID
    assert event.origin.waba_id == p.WABA_ID
    assert event.raw == p.TEXT
    assert not event.flagged


@pytest.mark.parametrize(
    ("message", "kind", "media_id"),
    [
        (p.IMAGE, "image", "111"),
        (p.AUDIO, "audio", "222"),
        (p.VIDEO, "video", "333"),
        (p.DOCUMENT, "document", "1234567890987654321"),
        (p.STICKER, "sticker", "444"),
    ],
)
def test_media_messages_carry_the_media_id(
    message: dict[str, Any], kind: str, media_id: str
) -> None:
    event = one_message(message)
    assert isinstance(event.content, MediaContent)
    assert (event.content.kind, event.content.media_id) == (kind, media_id)
    assert not event.flagged


def test_media_details() -> None:
    document = one_message(p.DOCUMENT).content
    assert isinstance(document, MediaContent)
    assert (document.filename, document.caption, document.mime_type) == (
        "filename.pdf",
        "caption",
        "application/pdf",
    )
    audio = one_message(p.AUDIO).content
    assert isinstance(audio, MediaContent) and audio.voice is True
    sticker = one_message(p.STICKER).content
    assert isinstance(sticker, MediaContent) and sticker.animated is False


def test_location() -> None:
    content = one_message(p.LOCATION).content
    assert content == LocationContent(
        37.4611978,
        -122.2164385,
        "Facebook HQ",
        "1 Hacker Way, Menlo Park, CA 94025",
        "https://maps.google.com/?cid=1",
    )


def test_shared_contact_cards() -> None:
    content = one_message(p.CONTACTS).content
    assert isinstance(content, ContactsContent)
    (card,) = content.contacts
    assert card.formatted_name == "Chandler Bing"
    assert card.phones == ("+1 555-555-5555",)
    assert card.wa_ids == ("972987654321",)


def test_interactive_button_reply_with_context() -> None:
    event = one_message(p.BUTTON_REPLY)
    assert event.content == InteractiveReplyContent("button_reply", "callback_data", "title")
    assert event.context is not None
    assert event.context.replied_to_id == "wamid.our-interactive"


def test_interactive_list_reply() -> None:
    content = one_message(p.LIST_REPLY).content
    assert content == InteractiveReplyContent("list_reply", "row-id", "09:00", "Clinic A")


def test_interactive_flow_reply_keeps_the_json_string() -> None:
    message = {
        **p.base("interactive", "wamid.nfm"),
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": '{"flow_token":"t"}'},
        },
    }
    content = one_message(message).content
    assert isinstance(content, InteractiveReplyContent)
    assert content.response_json == '{"flow_token":"t"}'


def test_template_quick_reply_button_with_and_without_context() -> None:
    event = one_message(p.QUICK_REPLY)
    assert event.content == ButtonContent("callback_data", "title")
    assert event.context is not None and event.context.replied_to_id == "wamid.template-msg"
    bare = one_message(p.QUICK_REPLY_NO_CONTEXT)
    assert bare.context is None and not bare.flagged


def test_reaction_and_its_removal() -> None:
    content = one_message(p.REACTION).content
    assert content == ReactionContent("wamid.reacted", "😮")
    for removal in (p.UNREACTION_EMPTY, p.UNREACTION_NO_EMOJI):
        removed = one_message(removal).content
        assert isinstance(removed, ReactionContent) and removed.removed


def test_reaction_reads_the_misspelled_key_too() -> None:
    message = {
        **p.base("reaction", "wamid.m3"),
        "reaction": {"messsage_id": "wamid.t", "emoji": "👍"},
    }
    assert one_message(message).content == ReactionContent("wamid.t", "👍")


def test_order_keeps_decimal_prices() -> None:
    content = one_message(p.ORDER).content
    assert isinstance(content, OrderContent)
    assert content.catalog_id == "354160437058781"
    (item,) = content.items
    assert (item.product_retailer_id, item.quantity, item.item_price, item.currency) == (
        "HAMBURGER",
        3.0,
        30.5,
        "ILS",
    )


def test_number_change_has_old_sender_and_new_wa_id_and_no_contacts() -> None:
    document = p.webhook(p.entry(p.change(messages=[p.NUMBER_CHANGE])))
    (event,) = parse_webhook(p.body(document))
    assert isinstance(event, InboundMessage)
    assert event.from_wa_id == "972987654321"
    assert event.sender is None
    assert event.content == SystemContent(
        "user_changed_number",
        "User A changed from 972987654321 to 972912345678",
        new_wa_id="972912345678",
    )
    assert not event.flagged


def test_legacy_number_change_reads_new_wa_id() -> None:
    message = {
        **p.base("system", "wamid.old"),
        "system": {
            "body": "changed",
            "new_wa_id": "16505550000",
            "type": "customer_changed_number",
        },
    }
    content = one_message(message).content
    assert isinstance(content, SystemContent) and content.new_wa_id == "16505550000"


def test_identity_change_keeps_the_hash() -> None:
    content = one_message(p.IDENTITY_CHANGE).content
    assert isinstance(content, SystemContent)
    assert (content.system_type, content.identity_hash) == (
        "customer_identity_changed",
        "Sjvjlx8G6Z0=",
    )


def test_unsupported_keeps_its_errors() -> None:
    event = one_message(p.UNSUPPORTED)
    assert event.content == UnsupportedContent("poll")
    assert [e.code for e in event.errors] == [131051]
    assert event.errors[0].details == "Message type is currently not supported."
    assert not event.flagged


def test_legacy_unknown_type_reads_as_unsupported() -> None:
    message = {**p.base("unknown", "wamid.unk"), "errors": [{"code": 131051, "title": "t"}]}
    event = one_message(message)
    assert event.content == UnsupportedContent(None)
    assert not event.flagged


def test_forward_flags() -> None:
    forwarded = one_message(p.FORWARDED).context
    assert forwarded is not None and forwarded.forwarded and not forwarded.frequently_forwarded
    chain = one_message(p.FREQUENTLY_FORWARDED).context
    assert chain is not None and chain.frequently_forwarded


def test_reply_context() -> None:
    context = one_message(p.REPLY).context
    assert context is not None
    assert (context.replied_to_id, context.replied_to_from) == (
        "wamid.replied-to",
        p.DISPLAY_NUMBER,
    )


def test_click_to_whatsapp_referral() -> None:
    referral = one_message(p.REFERRAL).referral
    assert referral is not None
    assert (referral.source_type, referral.source_id, referral.ctwa_clid) == (
        "ad",
        "120208880000000001",
        "ARAkLkA8rmlFeiCktEJQ",
    )
    assert referral.raw["image_url"] == "https://example.com/a.jpg"


def test_request_welcome_edit_and_revoke() -> None:
    welcome = one_message({**p.base("request_welcome", "wamid.w")})
    assert welcome.content == NoContent("request_welcome") and not welcome.flagged
    edit = {
        **p.base("edit", "wamid.e"),
        "edit": {
            "original_message_id": "wamid.o",
            "message": {"type": "text", "text": {"body": "b"}},
        },
    }
    assert not one_message(edit).flagged
    revoke = one_message(
        {**p.base("revoke", "wamid.r"), "revoke": {"original_message_id": "wamid.o"}}
    )
    assert not revoke.flagged


def test_bsuid_only_sender_is_matched_by_user_id() -> None:
    message = {**p.TEXT, "from_user_id": "US.13491208655302741918"}
    del message["from"]
    contact = {"profile": {"name": "Una", "username": "una"}, "user_id": "US.13491208655302741918"}
    event = one_message(message, contact=contact)
    assert event.from_wa_id is None
    assert event.sender is not None
    assert (event.sender.user_id, event.sender.username) == ("US.13491208655302741918", "una")
    assert not event.flagged


def test_sender_is_found_by_wa_id_among_several_contacts() -> None:
    first, second = dict(p.TEXT, id="wamid.a", **{"from": "111"}), dict(p.TEXT, id="wamid.b")
    contacts = [
        p.sender_contact("999", "Nobody"),
        p.sender_contact(p.SENDER, "Sheena"),
        p.sender_contact("111", "Eleven"),
    ]
    document = p.webhook(p.entry(p.change(contacts=contacts, messages=[first, second])))
    events = parse_webhook(p.body(document))
    names = [e.sender.name for e in events if isinstance(e, InboundMessage) and e.sender]
    assert names == ["Eleven", "Sheena"]


def test_unknown_type_is_kept_and_flagged_unknown() -> None:
    message = {**p.base("poll_v9", "wamid.new"), "poll_v9": {"question": "?"}}
    event = one_message(message)
    assert event.flags == {EventFlag.UNKNOWN}
    assert event.content == NoContent("poll_v9")
    assert event.raw == message
    assert event.dedup_key == "whatsapp:message:wamid.new"


def test_unknown_interactive_reply_type_is_flagged_unknown() -> None:
    message = {
        **p.base("interactive", "wamid.i2"),
        "interactive": {"type": "x_reply", "x_reply": {}},
    }
    assert one_message(message).flags == {EventFlag.UNKNOWN}


def test_unknown_keys_are_listed_but_do_not_flag() -> None:
    event = one_message({**p.TEXT, "shiny_new_field": {"a": 1}})
    assert event.unknown_keys == ("shiny_new_field",)
    assert not event.flagged


def test_interactive_without_payload_is_malformed_and_its_error_kept() -> None:
    message = {**p.base("interactive", "wamid.broken")}
    errors = [
        {
            "code": 131000,
            "title": "Something went wrong",
            "error_data": {"details": "Unsupported webhook payload"},
        }
    ]
    document = p.webhook(
        p.entry(p.change(contacts=[p.sender_contact()], messages=[message], errors=errors))
    )
    events = parse_webhook(p.body(document))
    assert [type(e).__name__ for e in events] == ["InboundMessage", "OutOfBandError"]
    assert events[0].flags == {EventFlag.MALFORMED}
    assert events[1].error.code == 131000  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [
        ({"id": None}, "no id"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"from": None}, "no sender"),
        ({"text": "not an object"}, "without its `text` object"),
    ],
)
def test_broken_messages_are_kept_and_flagged_malformed(
    mutation: dict[str, Any], problem: str
) -> None:
    message = {k: v for k, v in {**p.TEXT, **mutation}.items() if v is not None}
    event = one_message(message)
    assert EventFlag.MALFORMED in event.flags
    assert any(problem in text for text in event.problems)
    assert event.raw == message


def test_message_without_id_gets_a_stable_content_key() -> None:
    message = {k: v for k, v in p.TEXT.items() if k != "id"}
    first, second = one_message(message), one_message(dict(message))
    assert first.dedup_key == second.dedup_key
    assert first.dedup_key.startswith("whatsapp:message:sha256:")


def test_numeric_ids_and_timestamps_are_read_as_text_and_ints() -> None:
    event = one_message({**p.TEXT, "timestamp": 1749416383, "from": 16505551234})
    assert (event.timestamp, event.from_wa_id) == (1749416383, "16505551234")


def test_every_message_envelope_reparses_to_the_same_event() -> None:
    for message in (p.TEXT, p.IMAGE, p.BUTTON_REPLY, p.NUMBER_CHANGE, p.UNSUPPORTED, p.REFERRAL):
        event = one_message(message)
        assert parse_envelope(event.envelope) == [event]


def test_bsuid_change_and_unknown_system_types() -> None:
    changed = {
        **p.base("system", "wamid.bsuid"),
        "system": {
            "body": "user id changed",
            "type": "user_changed_user_id",
            "user_id": "US.222",
            "previous_user_id": "US.111",
        },
    }
    content = one_message(changed).content
    assert isinstance(content, SystemContent)
    assert (content.new_user_id, content.previous_user_id) == ("US.222", "US.111")
    odd = {**p.base("system", "wamid.odd"), "system": {"type": "user_became_a_cat"}}
    assert one_message(odd).flags == {EventFlag.UNKNOWN}


def test_number_change_without_the_new_number_is_malformed() -> None:
    broken = {**p.NUMBER_CHANGE, "system": {"type": "user_changed_number", "body": "?"}}
    assert one_message(broken).flags == {EventFlag.MALFORMED}
