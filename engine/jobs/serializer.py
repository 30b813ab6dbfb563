"""A huey serializer that writes JSON instead of pickle.

huey pickles its messages by default. Kazi's jobs carry ids and JSON only, so a
JSON serializer both keeps queued work readable across versions and refuses, at
enqueue time, anything that is not plain data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from huey.registry import Message
from huey.serializer import Serializer

_MESSAGE = "__huey_message__"
_DATETIME = "__datetime__"
_TUPLE = "__tuple__"


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {_MESSAGE: {name: _encode(getattr(value, name)) for name in Message._fields}}
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("job arguments must be JSON: dictionary keys must be strings")
        return {key: _encode(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(
        f"job arguments must be JSON (ids and plain values), not {type(value).__name__}"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if _MESSAGE in value:
            return Message(**{name: _decode(item) for name, item in value[_MESSAGE].items()})
        if _DATETIME in value:
            return datetime.fromisoformat(value[_DATETIME])
        if _TUPLE in value:
            return tuple(_decode(item) for item in value[_TUPLE])
        return {key: _decode(item) for key, item in value.items()}
    return value


class JsonSerializer(Serializer):
    def _serialize(self, data: Any) -> bytes:
        return json.dumps(_encode(data), separators=(",", ":")).encode("utf-8")

    def _deserialize(self, data: bytes) -> Any:
        return _decode(json.loads(data.decode("utf-8")))
