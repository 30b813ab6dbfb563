"""Outbound delivery states only move up (DESIGN rule 3), decided without I/O."""

from __future__ import annotations

RANK = {
    "queued": 0,
    "sending": 1,
    "accepted": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "played": 5,  # a voice note listened to: as far as delivery goes
}


def next_delivery_state(current: str | None, reported: str) -> str:
    """The state a message should have after the provider reports `reported`.

    A late `delivered` after `read` changes nothing; `failed` shows whenever it
    arrives, even after `sent`; a failed message leaves `failed` only through an
    explicit retry (which sets `queued` itself), never through a late status.
    """
    if reported == "played":
        reported = "read"  # a played voice note was read; `played` is no state of its own
    if reported == "failed":
        return "failed"
    if current == "failed":
        return "failed"
    if reported not in RANK:
        return current or "queued"
    if current is None or RANK[reported] > RANK.get(current, -1):
        return reported
    return current
