"""Ids that every log line written inside a unit of work carries: the workspace, the
inbound event, the conversation, the outbox row.

    with log_context(workspace_id=3, event_id=42):
        logger.info("applied")   # the JSON line has "workspace_id": 3, "event_id": 42

Context variables, so threads and asyncio tasks each keep their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ids: ContextVar[dict[str, int | str] | None] = ContextVar("kazi_log_ids", default=None)


@contextmanager
def log_context(**ids: int | str | None) -> Iterator[None]:
    """Adds `ids` (None values left out) to every record logged inside the block."""
    token = _ids.set({**current_ids(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _ids.reset(token)


def add_log_ids(**ids: int | str | None) -> None:
    """Adds `ids` for the rest of the enclosing `log_context` block (every job runs in
    one), where an id becomes known halfway: the block's end takes them away again.
    Outside any block it does nothing, so a direct call cannot leave ids behind."""
    current = _ids.get()
    if current is not None:
        _ids.set({**current, **{k: v for k, v in ids.items() if v is not None}})


def current_ids() -> dict[str, int | str]:
    return dict(_ids.get() or {})


class LogContextFilter(logging.Filter):
    """Copies the current ids onto each record, where JsonFormatter finds them; an id
    passed explicitly with `extra=` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_ids.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
