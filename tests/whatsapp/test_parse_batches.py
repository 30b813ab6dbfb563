"""Batches split cleanly; a bad part never sinks its siblings; unreadable bodies are kept."""

from __future__ import annotations

import json

from connectors.whatsapp.events import (
    EventFlag,
    InboundMessage,
    MalformedPayload,
    OtherChange,
    StatusUpdate,
)
from connectors.whatsapp.parse import parse_envelope, parse_webhook
from tests.whatsapp import payloads as p


def test_many_entries_and_changes_split_into_one_event_each_in_order() -> None:
    second_number = {"display_phone_number": "15550000002", "phone_number_id": "222"}
    other = p.change(messages=[p.IMAGE], contacts=[p.sender_contact()])
    other["value"]["metadata"] = second_number
    document = p.webhook(
        p.entry(
            p.change(contacts=[p.sender_contact()], messages=[p.TEXT, p.REPLY]),
            p.change(statuses=[p.SENT, p.DELIVERED, p.FAILED]),
        ),
        p.entry(other, waba_id="999"),
    )
    events = parse_webhook(p.body(document))
    assert [e.dedup_key for e in events] == [
        f"whatsapp:message:{p.TEXT['id']}",
        "whatsapp:message:wamid.rep",
        "whatsapp:status:wamid.HBgN:sent",
        "whatsapp:status:wamid.HBgN:delivered",
        "whatsapp:status:wamid.x:failed",
        "whatsapp:message:wamid.img",
    ]
    assert events[-1].origin is not None
    assert (events[-1].origin.waba_id, events[-1].origin.phone_number_id) == ("999", "222")
    for event in events:
        assert not event.flagged
        assert parse_envelope(event.envelope) == [event]
        items = event.envelope["entry"][0]["changes"][0]["value"]
        assert len(items.get("messages", [])) + len(items.get("statuses", [])) == 1


def test_messages_and_statuses_in_one_change() -> None:
    document = p.webhook(
        p.entry(p.change(contacts=[p.sender_contact()], messages=[p.TEXT], statuses=[p.READ]))
    )
    kinds = [type(e) for e in parse_webhook(p.body(document))]
    assert kinds == [InboundMessage, StatusUpdate]


def test_a_bad_entry_does_not_block_the_others() -> None:
    document = p.webhook(
        "not an entry",  # type: ignore[arg-type]
        {"id": "1", "changes": "nope"},
        p.entry({"field": "messages", "value": None}),
        p.entry(p.change(contacts=[p.sender_contact()], messages=[p.TEXT, 42, p.LOCATION])),
        p.entry(p.change(statuses=[p.SENT, ["x"], p.READ])),
    )
    events = parse_webhook(p.body(document))
    good = [e for e in events if not e.flagged]
    bad = [e for e in events if e.flagged]
    assert [e.dedup_key.split(":")[1] for e in good] == ["message", "message", "status", "status"]
    assert len(bad) == 5
    assert all(EventFlag.MALFORMED in e.flags for e in bad)
    for event in bad:
        assert parse_envelope(event.envelope) == [event]  # stored, re-readable, same key


def test_an_item_that_breaks_the_parser_is_isolated() -> None:
    # A `contacts` message whose cards contain a list where a mapping belongs.
    weird = {**p.base("contacts", "wamid.weird"), "contacts": [{"phones": "+1 555"}]}
    document = p.webhook(p.entry(p.change(contacts=[p.sender_contact()], messages=[weird, p.TEXT])))
    events = parse_webhook(p.body(document))
    assert len(events) == 2
    assert events[1].dedup_key == f"whatsapp:message:{p.TEXT['id']}"


def test_malformed_json_body_is_one_flagged_event_keeping_the_text() -> None:
    raw = b'{"object": "whatsapp_business_account", "entry": [ {oops'
    (event,) = parse_webhook(raw)
    assert isinstance(event, MalformedPayload)
    assert event.flags == {EventFlag.MALFORMED}
    assert event.body_text == raw.decode()
    assert event.envelope is None
    assert parse_webhook(raw)[0].dedup_key == event.dedup_key


def test_non_utf8_body_does_not_raise() -> None:
    (event,) = parse_webhook(b"\xff\xfe\x00garbage")
    assert isinstance(event, MalformedPayload)


def test_json_that_is_not_a_whatsapp_webhook_is_flagged() -> None:
    documents: list[object] = [
        [],
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
    ]
    for document in documents:
        (event,) = parse_webhook(json.dumps(document).encode())
        assert isinstance(event, MalformedPayload)


def test_an_empty_entry_list_gives_no_events() -> None:
    assert parse_webhook(p.body(p.webhook())) == []


def test_other_known_fields_are_kept_unflagged_and_unknown_fields_flagged() -> None:
    template_update = {
        "event": "REJECTED",
        "message_template_id": 1689556908129835,
        "message_template_name": "abandoned_cart",
        "message_template_language": "en",
        "reason": "INVALID_FORMAT",
    }
    document = p.webhook(
        p.entry(
            {"field": "message_template_status_update", "value": template_update},
            {"field": "brand_new_field", "value": {"x": 1}},
        )
    )
    known, unknown = parse_webhook(p.body(document))
    assert isinstance(known, OtherChange) and isinstance(unknown, OtherChange)
    assert known.field_name == "message_template_status_update" and not known.flagged
    assert unknown.flags == {EventFlag.UNKNOWN}
    assert unknown.raw == {"x": 1}
    assert parse_envelope(unknown.envelope) == [unknown]


def test_a_messages_change_with_nothing_readable_is_not_dropped() -> None:
    document = p.webhook(p.entry(p.change(something_else=[1])))
    (event,) = parse_webhook(p.body(document))
    assert isinstance(event, OtherChange) and event.flags == {EventFlag.UNKNOWN}


def test_business_app_echoes_are_messages_marked_as_echoes() -> None:
    echo = {**p.TEXT, "from": p.DISPLAY_NUMBER, "to": p.SENDER, "id": "wamid.echo"}
    document = p.webhook(p.entry(p.change("smb_message_echoes", message_echoes=[echo])))
    (event,) = parse_webhook(p.body(document))
    assert isinstance(event, InboundMessage)
    assert event.is_echo and event.echo_to == p.SENDER


def test_out_of_band_errors_dedup_by_content_and_companions() -> None:
    error = {"code": 130429, "title": "Rate limit hit"}
    once = parse_webhook(p.body(p.webhook(p.entry(p.change(errors=[error])))))
    again = parse_webhook(p.body(p.webhook(p.entry(p.change(errors=[dict(error)])))))
    assert once[0].dedup_key == again[0].dedup_key
    with_message = parse_webhook(
        p.body(p.webhook(p.entry(p.change(errors=[error], messages=[p.TEXT]))))
    )
    assert with_message[-1].dedup_key != once[0].dedup_key


def test_dashboard_test_sample_does_not_crash() -> None:
    sample = p.webhook(
        p.entry(
            p.change(contacts=[p.sender_contact()], messages=[{**p.TEXT, "id": "ABGGFlA5Fpa"}]),
            waba_id="0",
        )
    )
    (event,) = parse_webhook(p.body(sample))
    assert event.origin is not None and event.origin.waba_id == "0"
