"""Phone numbers in one spelling, E.164 (+254712345678), so one person is one identity."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str, default_region: str | None = None, *, strict: bool = True) -> str:
    """`raw` as an E.164 string, or ValueError saying why it is not a phone number.

    Accepts what people and providers write: spaces, dashes, brackets, a leading
    `+` or `00`, and WhatsApp ids (digits with the country code, no `+`). A number
    without a country code needs `default_region` (ISO 3166 alpha-2, e.g. "KE").

    `strict` checks the number against the numbering plan. WhatsApp ids come from
    the provider and are real by definition, so they pass `strict=False`: a range
    newer than this phonenumbers release must not turn a customer away.
    """
    text = raw.strip()
    if not text:
        raise ValueError("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif default_region is None and text.isdigit() and not text.startswith("0"):
        # A WhatsApp id is the full international number without its "+".
        text = "+" + text
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if text.startswith("+"):
                raise ValueError(f"{raw!r} is not a phone number: unknown country code") from None
            raise ValueError(
                f"{raw!r} has no country code: write it with +<country code> "
                "or give a default region"
            ) from None
        raise ValueError(f"{raw!r} is not a phone number") from None
    if not (_valid(number) if strict else _possible_whatsapp_id(number)):
        raise ValueError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid(number: phonenumbers.PhoneNumber) -> bool:
    return bool(phonenumbers.is_valid_number(number))


# E.164 allows at most 15 digits, country code included.
E164_MAX_DIGITS = 15


def _possible_whatsapp_id(number: phonenumbers.PhoneNumber) -> bool:
    """Possible by length, or longer than the plan allows but still E.164: WhatsApp
    reports many Mexican mobiles in the retired 52 1 form, a digit longer than today's
    plan, and a customer writing from one must not be turned away."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.IS_POSSIBLE:
        return True
    digits = len(str(number.country_code)) + len(str(number.national_number))
    return reason == phonenumbers.ValidationResult.TOO_LONG and digits <= E164_MAX_DIGITS
