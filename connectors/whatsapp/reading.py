"""Reading untrusted JSON scalars: ids are strings, timestamps strings or ints.

Each reader returns None (or an empty mapping) for a value of the wrong type instead
of raising, so one odd field never stops a webhook from being read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from connectors.whatsapp.events import Json


def text(value: Json) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # template ids arrive as integers; ids are kept as text
    return None


def timestamp(value: Json) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def integer(value: Json) -> int | None:
    return timestamp(value)


def number(value: Json) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def mapping(value: Json) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def boolean(value: Json) -> bool | None:
    return value if isinstance(value, bool) else None


def digest(value: Json) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
