"""Safe accessors the generated condition code calls.

Compiled conditions run on payloads nobody validated, so every helper here
accepts any value and answers `None` (or `False`) instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

NUMBER_TYPES = (int, float)
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_SEQUENCES = (list, tuple, set, frozenset)


def as_dict(value: Any) -> dict[str, Any]:
    """A plain dict for a root object; anything that is not a mapping becomes `{}`."""
    if type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return {}


def part(container: Any, name: str) -> Any:
    """`container[name]` as a plain dict (an event's message, a snapshot's order), or empty."""
    if isinstance(container, Mapping):
        value = container.get(name)
        if type(value) is dict:
            return value
        if isinstance(value, Mapping):
            return as_dict(value)
    return _EMPTY


def path(root: Any, keys: tuple[str, ...]) -> Any:
    """Follow `keys` through nested mappings; `None` as soon as one is missing."""
    value = root
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key)
        else:
            return None
    return value


def num(value: Any) -> float | int | None:
    """A number, or `None`: booleans are not numbers; numeric strings ("5,000") are."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bool or value is None:
        return None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = float(value.replace(",", "").strip())
        except ValueError:
            return None
        return parsed if parsed == parsed else None
    return None


def text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}" if value == value else None
    return None


def when(value: Any) -> datetime | None:
    """An aware datetime; naive ones are read as UTC, ISO strings are parsed."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


def since(now: datetime, value: Any) -> float | None:
    """Seconds from `value` to `now`, or `None` when `value` is not a time."""
    instant = when(value)
    if instant is None:
        return None
    return (now - instant).total_seconds()


def after(value: Any, reference: Any) -> bool:
    """True when `value` is a time later than `reference`."""
    instant = when(value)
    start = when(reference)
    return instant is not None and start is not None and instant > start


def contains(subject: Any, needle: Any) -> bool:
    """Case-insensitive substring for text, membership for lists."""
    if isinstance(subject, str):
        return isinstance(needle, str) and needle.casefold() in subject.casefold()
    if isinstance(subject, _SEQUENCES):
        try:
            return needle in subject
        except TypeError:
            return False
    return False


def search(subject: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(subject, str) and pattern.search(subject) is not None


def member(value: Any, options: Any) -> bool:
    """`value in options` for a list field or literal; never raises."""
    if isinstance(options, _SEQUENCES):
        try:
            return value in options
        except TypeError:
            return False
    return False


def empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (*_SEQUENCES, Mapping)):
        return len(value) == 0
    return False


def truthy(value: Any) -> bool:
    return value is True


def compare(left: Any, op: str, right: Any) -> bool:
    """Ordering for values whose type is only known at run time (integration payloads)."""
    if left is None or right is None:
        return False
    left_n, right_n = num(left), num(right)
    if left_n is not None and right_n is not None:
        left, right = left_n, right_n
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def display(value: Any) -> str:
    """How a value reads inside a message: no `None`, no `5000.0`."""
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    return str(value)


NAMESPACE: dict[str, Any] = {
    "_E": _EMPTY,
    "_as_dict": as_dict,
    "_part": part,
    "_NUM": NUMBER_TYPES,
    "_num": num,
    "_text": text,
    "_when": when,
    "_since": since,
    "_after": after,
    "_contains": contains,
    "_search": search,
    "_member": member,
    "_empty": empty,
    "_path": path,
    "_compare": compare,
    "_display": display,
}
"""The only names generated code can see besides its own constants."""
