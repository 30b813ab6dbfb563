"""A broadcast's template variables, filled per recipient.

Each placeholder of the template body gets a source: `contact.first_name`,
`contact.name`, `contact.language`, `contact.<field>` (a contact field of
workspace.yaml), or fixed text ("20% off all phones"). A source may end in
`| fallback` for people who lack the value (`contact.first_name | friend`).
Without one, a recipient whose value is empty is skipped with the reason: WhatsApp
refuses a template with an empty parameter (132000)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.core.config import Template

PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
_SPACES = re.compile(r"\s+")
MAX_VALUE = 1024  # WhatsApp's limit for one text parameter
BUILT_IN = ("first_name", "name", "language")


@dataclass(frozen=True)
class Person:
    """What a variable may read of one recipient."""

    name: str
    language: str
    fields: Mapping[str, object]


def positions(template: Template) -> list[int]:
    return sorted({int(n) for n in PLACEHOLDER.findall(template.body)})


def header_positions(template: Template) -> list[int]:
    return sorted({int(n) for n in PLACEHOLDER.findall(template.header or "")})


def suggested_sources(template: Template) -> list[str]:
    """What the form proposes for each placeholder: the template's own meaning when it
    is about the contact, else nothing (the manager types the offer)."""
    meaning = {v.position: v.value.text for v in template.variables if v.component == "body"}
    return [
        meaning[p] if meaning.get(p, "").startswith("contact.") else "" for p in positions(template)
    ]


def check_sources(
    template: Template, sources: Sequence[str], contact_fields: Sequence[str]
) -> str | None:
    """Why these sources cannot fill this template, or None."""
    if header_positions(template):
        return (
            f"template {template.name!r} has a variable in its header; broadcasts fill body "
            "variables only, pick a template without one"
        )
    wanted = positions(template)
    if len(sources) != len(wanted):
        return f"template {template.name!r} needs {len(wanted)} variable(s), got {len(sources)}"
    for position, source in zip(wanted, sources, strict=True):
        main = source.split("|", 1)[0].strip()
        if not source.strip():
            return f"{{{{{position}}}}}: give a contact value or fixed text"
        if len(source) > MAX_VALUE:
            return f"{{{{{position}}}}}: at most {MAX_VALUE} characters"
        if main.startswith("contact."):
            key = main[len("contact.") :]
            if key not in BUILT_IN and key not in contact_fields:
                known = ", ".join(f"contact.{k}" for k in (*BUILT_IN, *contact_fields))
                return f"{{{{{position}}}}}: {main} is not something a contact has ({known})"
    return None


def fill(sources: Sequence[str], person: Person) -> list[str] | str:
    """The parameters for this person, or why they cannot be filled."""
    values: list[str] = []
    for index, source in enumerate(sources, start=1):
        main, _, fallback = source.partition("|")
        main = main.strip()
        if main.startswith("contact."):
            value = _read(main[len("contact.") :], person)
            if not value:
                value = fallback.strip()
            if not value:
                return f"no {main} for {{{{{index}}}}}"
        else:
            value = source.strip()
        # WhatsApp refuses new lines, tabs and long runs of spaces in a parameter.
        values.append(_SPACES.sub(" ", value).strip()[:MAX_VALUE])
    return values


def _read(key: str, person: Person) -> str:
    if key == "first_name":
        words = person.name.split()
        return words[0] if words else ""
    if key == "name":
        return person.name.strip()
    if key == "language":
        return person.language
    value = person.fields.get(key)
    return "" if value is None else str(value).strip()


def render(template: Template, values: Sequence[str]) -> str:
    """The text the customer reads."""

    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return PLACEHOLDER.sub(value, template.body)
