"""Offline extraction: amounts, quantities, dates, times, phone numbers, places and products.

Places and products come from the workspace's own knowledge.yaml (delivery areas and
catalogue, with their aliases), so the extractor finds what this business sells and
where it delivers, not a general gazetteer. Patterns cover how Kenyan customers write:
"KES 1,500", "1500/-", "2pcs", "mbili", "kesho", "saa tisa", "0712 345 678".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from engine.core.ai.text import find_phrase, fold, tokens
from engine.core.ai.types import OFFLINE, ExtractedField, Extraction, ExtractRequest, FieldKind
from engine.core.config import Knowledge

_AMOUNT_BEFORE = re.compile(
    r"(?<![\w])(kes|ksh|kshs|sh|shs|usd|\$)\.?\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(k)?(?![\w])",
    re.IGNORECASE,
)
_AMOUNT_AFTER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(k\b)?\s?(/=|/-|bob\b|shillings?\b|kes\b|ksh\b)",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<!\d)(?:\+?254|0)\s?([17]\d{2})\s?(\d{3})\s?(\d{3})(?!\d)")
_TIME_CLOCK = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)\s?(am|pm)?(?![\d])", re.I)
_TIME_AMPM = re.compile(r"(?<![\d:])(1[0-2]|0?[1-9])\s?(am|pm)(?![a-z])", re.IGNORECASE)
_DATE_NUMERIC = re.compile(
    r"(?<![\d/])(0?[1-9]|[12]\d|3[01])/(0?[1-9]|1[0-2])(?:/(\d{2,4}))?(?!\d)"
)
_QUANTITY_UNIT = re.compile(
    r"(?<![\w.,])(\d+)\s?(?:x\s?)?(pcs|pieces|piece|units?|boxes|box|cartons?|crates?|bags?|"
    r"packets?|dozens?|kgs?|litres?|liters?|vipande|katoni|pakiti|magunia|gunia|debe)(?![a-z])",
    re.IGNORECASE,
)

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "twenty": 20,
    "moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7,
    "nane": 8, "tisa": 9, "kumi": 10, "ishirini": 20,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "jumatatu": 0, "jumanne": 1, "jumatano": 2, "alhamisi": 3, "ijumaa": 4,
    "jumamosi": 5, "jumapili": 6,
}  # fmt: skip
_RELATIVE_DAYS = {"today": 0, "leo": 0, "tomorrow": 1, "kesho": 1, "keshokutwa": 2}
Claim = Callable[[int, int], bool]

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}


def extract_offline(
    knowledge: Knowledge, currency: str | None, request: ExtractRequest
) -> Extraction:
    text = request.text
    found: list[ExtractedField] = []
    taken: list[tuple[int, int]] = []  # character ranges already read, so "1,500/-" is no quantity

    def claim(start: int, end: int) -> bool:
        if any(start < e and s < end for s, e in taken):
            return False
        taken.append((start, end))
        return True

    for match in _PHONE.finditer(text):
        if claim(*match.span()):
            value = "+254" + "".join(match.groups())
            found.append(ExtractedField(FieldKind.PHONE, value, match.group(0), 0.95))
    found += _amounts(text, currency, claim)
    found += _times(text, claim)
    found += _dates(text, request.today, claim)
    found += _quantities(text, claim)
    words = tokens(text)
    found += _products(knowledge, words)
    found += _places(knowledge, words)
    confidence = round(max((f.confidence for f in found), default=0.0), 3)
    return Extraction(tuple(found), confidence, OFFLINE)


def _amounts(text: str, currency: str | None, claim: Claim) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    for match in _AMOUNT_BEFORE.finditer(text):
        unit, whole, cents, thousands = match.groups()
        amount = _decimal(whole, cents, thousands)
        if amount is not None and claim(*match.span()):
            code = "USD" if unit in ("$", "usd", "USD") else (currency or "KES")
            found.append(ExtractedField(FieldKind.AMOUNT, f"{amount} {code}", match.group(0), 0.9))
    for match in _AMOUNT_AFTER.finditer(text):
        whole, cents, thousands, _unit = match.groups()
        amount = _decimal(whole, cents, thousands)
        if amount is not None and claim(*match.span()):
            code = currency or "KES"
            found.append(ExtractedField(FieldKind.AMOUNT, f"{amount} {code}", match.group(0), 0.85))
    return found


def _decimal(whole: str, cents: str | None, thousands: str | None) -> Decimal | None:
    try:
        amount = Decimal(whole.replace(",", "") + (cents or ""))
    except InvalidOperation:
        return None
    if thousands:
        amount *= 1000
    return Decimal(int(amount)) if amount == amount.to_integral() else amount


def _times(text: str, claim: Claim) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    for match in _TIME_CLOCK.finditer(text):
        hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3)
        if half and hour <= 12:
            hour = hour % 12 + (12 if half.lower() == "pm" else 0)
        if claim(*match.span()):
            found.append(
                ExtractedField(FieldKind.TIME, f"{hour:02d}:{minute:02d}", match.group(0), 0.85)
            )
    for match in _TIME_AMPM.finditer(text):
        hour = int(match.group(1)) % 12 + (12 if match.group(2).lower() == "pm" else 0)
        if claim(*match.span()):
            found.append(ExtractedField(FieldKind.TIME, f"{hour:02d}:00", match.group(0), 0.85))
    # Swahili time counts from dawn: "saa tisa" (the ninth hour) is 15:00, "saa mbili" 08:00.
    for match in re.finditer(r"\bsaa\s+(\w+)", fold(text)):
        nth = _NUMBER_WORDS.get(match.group(1)) or (
            int(match.group(1)) if match.group(1).isdigit() else None
        )
        if nth is None or not 1 <= nth <= 12:
            continue
        clock = (nth + 6) % 24
        if claim(*match.span()):
            found.append(ExtractedField(FieldKind.TIME, f"{clock:02d}:00", match.group(0), 0.7))
    return found


def _dates(text: str, today: date | None, claim: Claim) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    folded = fold(text)
    for match in re.finditer(r"[a-z]+", folded):
        word = match.group(0)
        day: date | None = None
        label: str | None = None
        if word in _RELATIVE_DAYS:
            label = word
            day = today + timedelta(days=_RELATIVE_DAYS[word]) if today else None
        elif word in _WEEKDAYS:
            label = word
            if today is not None:
                ahead = (_WEEKDAYS[word] - today.weekday()) % 7 or 7
                day = today + timedelta(days=ahead)
        if label is not None and claim(*match.span()):
            value = day.isoformat() if day else label
            found.append(
                ExtractedField(FieldKind.DATE, value, text[match.start() : match.end()], 0.8)
            )
    for match in _DATE_NUMERIC.finditer(text):
        day_of, month = int(match.group(1)), int(match.group(2))
        numeric = _iso(_year(match.group(3), today), month, day_of)
        if numeric and claim(*match.span()):
            found.append(ExtractedField(FieldKind.DATE, numeric, match.group(0), 0.75))
    for match in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\b", folded):
        named_month = _MONTHS.get(match.group(2))
        named = _iso(_year(None, today), named_month, int(match.group(1))) if named_month else None
        if named and claim(*match.span()):
            found.append(
                ExtractedField(FieldKind.DATE, named, text[match.start() : match.end()], 0.8)
            )
    return found


def _year(written: str | None, today: date | None) -> int | None:
    if written:
        number = int(written)
        return number + 2000 if number < 100 else number
    return today.year if today else None


def _iso(year: int | None, month: int, day: int) -> str | None:
    try:
        return date(year or 2000, month, day).isoformat() if year else f"--{month:02d}-{day:02d}"
    except ValueError:
        return None


def _quantities(text: str, claim: Claim) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    for match in _QUANTITY_UNIT.finditer(text):
        if claim(*match.span()):
            value = f"{int(match.group(1))} {match.group(2).lower()}"
            found.append(ExtractedField(FieldKind.QUANTITY, value, match.group(0), 0.85))
    return found


def _count_before(words: tuple[str, ...], start: int) -> int | None:
    """A count written just before a product ("2 tvs", "mbili", "x3"), if any."""
    for back in (1, 2):
        if start - back < 0:
            break
        word = words[start - back]
        if word.isdigit() and 0 < int(word) < 10_000:
            return int(word)
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
        if word.startswith("x") and word[1:].isdigit():
            return int(word[1:])
    return None


def _products(knowledge: Knowledge, words: tuple[str, ...]) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    for product in knowledge.products:
        for name in (product.name, *product.aliases):
            phrase = tokens(name)
            start = find_phrase(words, phrase, prefix=False)
            if start < 0 and len(phrase) == 1:  # plurals: "fridges", "tvs"
                start = find_phrase(words, (phrase[0] + "s",), prefix=False)
            if start < 0:
                continue
            after = words[start + len(phrase)] if start + len(phrase) < len(words) else ""
            count = _count_before(words, start) or (
                _NUMBER_WORDS.get(after)
                or (int(after) if after.isdigit() and len(after) < 4 else None)
            )
            confidence = 0.9 if name == product.name else 0.75
            found.append(
                ExtractedField(
                    FieldKind.PRODUCT,
                    product.name,
                    " ".join(words[start : start + len(phrase)]),
                    confidence,
                    quantity=count,
                )
            )
            break
    return found


def _places(knowledge: Knowledge, words: tuple[str, ...]) -> list[ExtractedField]:
    found: list[ExtractedField] = []
    for area in knowledge.delivery:
        for name in (area.name, *area.aliases):
            start = find_phrase(words, tokens(name), prefix=False)
            if start >= 0:
                text = " ".join(words[start : start + len(tokens(name))])
                found.append(ExtractedField(FieldKind.PLACE, area.name, text, 0.85))
                break
    return found
