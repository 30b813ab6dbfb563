"""Richer sends than text: reply buttons, list messages, a location, a contact card, a reaction.

Pure data and WhatsApp's limits (docs/whatsapp.md, the Cloud API reference §7.5): the
rule compiler checks a rule's literal buttons against them, the reducer refuses a
person's send that breaks them (and a rule's is skipped with the reason), and the
outbox turns the spec into the request body. All of them are service messages: only
inside the 24-hour window, like free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
CHOICE_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
LIST_BUTTON_MAX = 20
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
SECTION_TITLE_MAX = 24
BODY_MAX = 1024

KINDS = ("buttons", "list", "location", "contact", "reaction")

OUTSIDE_WINDOW_RICH = (
    "Buttons, lists, locations, contact cards and reactions can only be sent within 24 hours "
    "of the customer's last message. Send an approved template instead."
)


@dataclass(frozen=True)
class Choice:
    """A reply button or a list row; `id` comes back as the reply's payload when tapped."""

    title: str
    id: str = ""
    description: str | None = None

    @property
    def payload(self) -> str:
        return self.id or self.title


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[Choice, ...]


@dataclass(frozen=True)
class RichMessage:
    kind: str  # one of KINDS
    body: str = ""  # buttons and list: the text above them
    buttons: tuple[Choice, ...] = ()
    list_button: str = ""  # the label that opens a list
    sections: tuple[Section, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = None  # a location's name
    address: str | None = None
    contact_name: str = ""  # a contact card
    contact_phone: str = ""
    emoji: str = ""  # a reaction; "" takes it back
    react_to: int | None = None  # the message reacted to (its id in the record)


def problem(message: RichMessage) -> str | None:
    """Why WhatsApp would refuse this message, in words; None when it is fine."""
    if message.kind not in KINDS:
        return f"unknown kind of message {message.kind!r}"
    if message.kind in ("buttons", "list"):
        if not message.body.strip():
            return "write the text that goes above the choices"
        if len(message.body) > BODY_MAX:
            return f"the text is {len(message.body)} characters; WhatsApp allows {BODY_MAX}"
    if message.kind == "buttons":
        return _buttons_problem(message.buttons)
    if message.kind == "list":
        return _list_problem(message)
    if message.kind == "location":
        if message.latitude is None or message.longitude is None:
            return "a location needs a latitude and a longitude"
        if not -90 <= message.latitude <= 90 or not -180 <= message.longitude <= 180:
            return "latitude goes from -90 to 90 and longitude from -180 to 180"
        return None
    if message.kind == "contact":
        if not message.contact_name.strip():
            return "a contact card needs a name"
        digits = "".join(c for c in message.contact_phone if c.isdigit())
        if len(digits) < 7:
            return "a contact card needs a phone number"
        return None
    if message.react_to is None:
        return "say which message the reaction is for"
    if len(message.emoji) > 8:
        return "a reaction is one emoji"
    return None


def _buttons_problem(buttons: tuple[Choice, ...]) -> str | None:
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        return f"WhatsApp allows 1 to {BUTTONS_MAX} reply buttons, not {len(buttons)}"
    return _choices_problem(buttons, BUTTON_TITLE_MAX, "button")


def _list_problem(message: RichMessage) -> str | None:
    if not message.list_button.strip():
        return "a list needs the label of the button that opens it"
    if len(message.list_button) > LIST_BUTTON_MAX:
        return (
            f"the list's button label {message.list_button!r} is longer than "
            f"{LIST_BUTTON_MAX} characters"
        )
    if not 1 <= len(message.sections) <= LIST_SECTIONS_MAX:
        return f"a list has 1 to {LIST_SECTIONS_MAX} sections"
    rows = tuple(row for section in message.sections for row in section.rows)
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        return f"WhatsApp allows 1 to {LIST_ROWS_MAX} rows in a list, not {len(rows)}"
    for section in message.sections:
        if not section.rows:
            return f"section {section.title!r} has no rows"
        if len(message.sections) > 1 and not section.title.strip():
            return "with several sections, each needs a title"
        if len(section.title) > SECTION_TITLE_MAX:
            return f"section title {section.title!r} is longer than {SECTION_TITLE_MAX} characters"
    for row in rows:
        if row.description and len(row.description) > ROW_DESCRIPTION_MAX:
            return f"the description of {row.title!r} is longer than {ROW_DESCRIPTION_MAX}"
    return _choices_problem(rows, ROW_TITLE_MAX, "row")


def _choices_problem(choices: tuple[Choice, ...], title_max: int, what: str) -> str | None:
    seen: set[str] = set()
    for choice in choices:
        if not choice.title.strip():
            return f"a {what} needs a title"
        if len(choice.title) > title_max:
            return f"{what} title {choice.title!r} is longer than {title_max} characters"
        if len(choice.payload) > CHOICE_ID_MAX:
            return f"the id of {what} {choice.title!r} is longer than {CHOICE_ID_MAX} characters"
        if choice.payload in seen:
            return f"two {what}s say {choice.payload!r}; each must be different"
        seen.add(choice.payload)
    return None


def preview(message: RichMessage) -> str:
    """What the conversation's history shows for it, in plain text."""
    if message.kind == "buttons":
        return message.body + "\n" + " · ".join(f"[{b.title}]" for b in message.buttons)
    if message.kind == "list":
        rows = [
            f"{section.title + ': ' if section.title else ''}"
            + ", ".join(row.title for row in section.rows)
            for section in message.sections
        ]
        return f"{message.body}\n[{message.list_button}] " + "; ".join(rows)
    if message.kind == "location":
        where = ", ".join(p for p in (message.place, message.address) if p)
        return f"📍 {where or 'Location'} ({message.latitude}, {message.longitude})"
    if message.kind == "contact":
        return f"👤 {message.contact_name} {message.contact_phone}"
    return message.emoji or "(reaction removed)"


def to_spec(message: RichMessage) -> dict[str, Any]:
    """The message as plain JSON for the outbox row (the executor rebuilds the request)."""
    spec: dict[str, Any] = {"type": message.kind}
    if message.kind == "buttons":
        spec.update(body=message.body, buttons=[[b.payload, b.title] for b in message.buttons])
    elif message.kind == "list":
        spec.update(
            body=message.body,
            button=message.list_button,
            sections=[
                {
                    "title": s.title,
                    "rows": [[r.payload, r.title, r.description] for r in s.rows],
                }
                for s in message.sections
            ],
        )
    elif message.kind == "location":
        spec.update(
            latitude=message.latitude,
            longitude=message.longitude,
            name=message.place,
            address=message.address,
        )
    elif message.kind == "contact":
        spec.update(name=message.contact_name, phone=message.contact_phone)
    else:
        spec.update(emoji=message.emoji)
    return spec
