"""Whatever arrives, the parser returns events and never raises; envelopes re-parse the same."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.whatsapp.parse import parse_envelope, parse_webhook
from tests.whatsapp import payloads as p

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
KNOWN = [
    p.TEXT,
    p.IMAGE,
    p.BUTTON_REPLY,
    p.QUICK_REPLY,
    p.REACTION,
    p.ORDER,
    p.NUMBER_CHANGE,
    p.UNSUPPORTED,
    p.CONTACTS,
    p.LOCATION,
    p.REFERRAL,
]
KEYS = [
    "id",
    "from",
    "timestamp",
    "type",
    "context",
    "text",
    "interactive",
    "system",
    "errors",
    "contacts",
    "order",
    "reaction",
    "location",
    "referral",
]


@st.composite
def mangled_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A real message with some of its parts replaced by arbitrary JSON."""
    message = dict(draw(st.sampled_from(KNOWN)))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3)):
        message[key] = draw(json_values)
    return message


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(mangled_messages(), min_size=1, max_size=3), st.lists(json_values, max_size=2))
def test_mangled_messages_never_raise_and_round_trip(
    messages: list[dict[str, Any]], statuses: list[Any]
) -> None:
    document = p.webhook(
        p.entry(p.change(contacts=[p.sender_contact()], messages=messages, statuses=statuses))
    )
    raw = json.dumps(document).encode()
    events = parse_webhook(raw)
    assert len(events) == len(messages) + len(statuses)
    for event in events:
        assert event.dedup_key.startswith("whatsapp:")
        assert parse_envelope(json.loads(json.dumps(event.envelope))) == [event]


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_body_never_raises(document: Any) -> None:
    for body in (json.dumps(document).encode(), json.dumps(p.webhook(document)).encode()):
        for event in parse_webhook(body):
            assert event.dedup_key.startswith("whatsapp:")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_never_raise(body: bytes) -> None:
    assert all(e.dedup_key for e in parse_webhook(body))
