"""Phone numbers as Daraja wants them: `2547XXXXXXXX` / `2541XXXXXXXX`, 12 digits, no `+`.

Reference §8: customers and staff write `07…`, `01…`, `+254 7…`, `254…`. `phonenumbers`
parses them with Kenya as the default region; anything that is not a valid Kenyan
mobile number is refused with a reason rather than cut to its last nine digits.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType


class InvalidPhone(ValueError):
    """Not a Kenyan mobile number M-Pesa can prompt."""


def daraja_phone(raw: str | int) -> str:
    """`0712 345 678`, `+254712345678`, `254712345678` → `254712345678`."""
    text = str(raw).strip()
    if text.isdigit() and text.startswith("254"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "KE")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(f"{raw!r} is not a phone number: {error}") from error
    if number.country_code != 254 or not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid Kenyan phone number")
    kind = phonenumbers.number_type(number)
    if kind not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPhone(f"{raw!r} is not a Kenyan mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
