"""What a change asked at the desk is refused with; pages and the API turn these into answers."""

from __future__ import annotations


class NotFound(LookupError):
    """No such row in this workspace (a foreign id looks exactly like a missing one)."""


class Conflict(Exception):
    """Someone else changed it first; the message says who and what to do."""


class InvalidInput(ValueError):
    """The request itself is wrong; the message says which field and why."""
