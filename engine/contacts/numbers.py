"""A number someone typed (a form, a spreadsheet) in its one spelling, with every form
WhatsApp may know the same person by, so a list never doubles a customer who wrote first."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from connectors.whatsapp.numbers import equivalent_wa_ids
from engine.identity import to_e164


@dataclass(frozen=True)
class TypedNumber:
    """`address` is the E.164 spelling stored on a new identity; `forms` are every
    E.164 spelling of the same WhatsApp account (itself included) to look it up by."""

    address: str
    forms: frozenset[str]


def typed_number(raw: str, default_region: str | None = None) -> TypedNumber:
    """The number as E.164 with its equivalent forms, or ValueError saying what is wrong.

    Checked against the numbering plan; a number in one of WhatsApp's older forms
    (Brazil without the ninth digit, Mexico's 52 1, Argentina's 54 9) is accepted, as its valid
    form, when it has one: that may be how the customer's WhatsApp knows it.
    """
    try:
        address = to_e164(raw, default_region)
    except ValueError as refused:
        try:
            address = to_e164(raw, default_region, strict=False)
        except ValueError:
            raise refused from None
        valid = sorted(form for form in _forms(address) - {address} if _valid(form))
        if not valid:
            raise refused from None
        address = valid[0]
    return TypedNumber(address, frozenset(_forms(address)))


def region_of(e164: str) -> str | None:
    """The region a number belongs to ("KE" for +254...), the default for numbers
    typed without their country code."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


def _forms(address: str) -> set[str]:
    return {"+" + form for form in equivalent_wa_ids(address.removeprefix("+"))}


def _valid(address: str) -> bool:
    try:
        to_e164(address)
    except ValueError:
        return False
    return True
