"""Phone numbers in one spelling (E.164), so one person is one identity."""

from __future__ import annotations

import pytest

from engine.identity import normalise_address, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+254 712 345 678", None, "+254712345678"),
        ("254712345678", None, "+254712345678"),  # a WhatsApp id: no "+"
        ("00254712345678", None, "+254712345678"),
        ("0712 345-678", "KE", "+254712345678"),
        ("0712345678", "ke", "+254712345678"),
        ("(020) 7946 0958", "GB", "+442079460958"),
        ("+1 (415) 555-2671", "KE", "+14155552671"),  # an explicit country wins
    ],
)
def test_spellings_of_one_number_meet(raw: str, region: str | None, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "says"),
    [
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("hello", None, "not a phone number"),
        ("0712345678", None, "no country code"),
        ("+2547", None, "not"),
        ("+254 12", None, "not"),
        ("+999 712 345 678", None, "unknown country code"),
    ],
)
def test_garbage_is_refused_with_a_reason(raw: str, region: str | None, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        to_e164(raw, region)


def test_a_whatsapp_id_outside_the_known_plan_is_still_a_customer() -> None:
    # +1 555 0000000 is possible but not in the numbering plan phonenumbers knows.
    with pytest.raises(ValueError, match="not a valid phone number"):
        to_e164("+15550000000")
    assert to_e164("15550000000", strict=False) == "+15550000000"
    assert normalise_address("whatsapp", "15550000000") == "+15550000000"
    with pytest.raises(ValueError):
        normalise_address("phone", "+15550000000")
    with pytest.raises(ValueError, match="not a valid phone number"):
        to_e164("+2541234", strict=False)
    # Mexico's old mobile form (52 1 ...) is a digit too long for today's plan.
    assert to_e164("5215512345678", strict=False) == "+5215512345678"
    with pytest.raises(ValueError, match="not a valid phone number"):
        to_e164("+5215512345678")
    with pytest.raises(ValueError, match="not a valid phone number"):
        to_e164("+52155123456789012", strict=False)  # longer than E.164 allows


def test_addresses_are_normalised_per_channel() -> None:
    assert normalise_address("whatsapp", "254712345678") == "+254712345678"
    assert normalise_address("phone", "0712345678", "KE") == "+254712345678"
    assert normalise_address("email", "  Wanjiru@Example.CO.KE ") == "wanjiru@example.co.ke"
    with pytest.raises(ValueError, match="not an email"):
        normalise_address("email", "wanjiru at example")
    with pytest.raises(ValueError, match="unknown channel"):
        normalise_address("fax", "123")
