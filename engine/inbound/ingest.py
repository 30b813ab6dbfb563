"""Persist first (DESIGN rule 1): store a provider's webhook items raw, deduplicated.

This is all a webhook request does before answering 200. Parsing into domain
changes happens later, in a job, so a slow database write or a bug in applying
an event can never make the provider retry or lose a message.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.models import InboundEvent, InboundState


@dataclass(frozen=True)
class RawItem:
    """One event of a webhook body, as the connector split it."""

    dedup_key: str
    payload: dict[str, Any]
    flag: str | None = None  # why it cannot be processed as is (unknown type, malformed)


@dataclass(frozen=True)
class Stored:
    new_event_ids: list[int]  # stored now and ready for processing: enqueue these
    duplicates: int
    flagged: int


def store_inbound(
    session: Session | Connection,
    *,
    workspace_id: int,
    provider: str,
    items: Sequence[RawItem],
    signature_ok: bool,
    now: datetime,
) -> Stored:
    """Insert each item unless its dedup key is already stored. Does not commit.

    Takes a Session or, on the webhook's hot path, a bare Connection: every row
    carries its workspace_id explicitly, so it needs no workspace scoping to be right.
    """
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    statement = _insert_unless_stored(dialect.name)
    new_ids: list[int] = []
    duplicates = flagged = 0
    for item in items:
        values = {
            "workspace_id": workspace_id,
            "provider": provider,
            "dedup_key": _fitting(item.dedup_key),
            "payload": item.payload,
            "signature_ok": signature_ok,
            "state": InboundState.FLAGGED if item.flag else InboundState.RECEIVED,
            "last_error": item.flag,
            "attempts": 0,
            "received_at": now,
            "enqueued_at": None if item.flag else now,
        }
        new_id = session.execute(statement, values).scalar_one_or_none()
        if new_id is None:
            duplicates += 1
        elif item.flag:
            flagged += 1
        else:
            new_ids.append(new_id)
    return Stored(new_event_ids=new_ids, duplicates=duplicates, flagged=flagged)


def _fitting(key: str) -> str:
    """The key as is, or its hash when longer than the column: never silently cut."""
    if len(key) <= 255:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@functools.cache
def _insert_unless_stored(dialect: str) -> Any:
    """The INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect: this
    runs on every webhook, and building the statement cost more than running it."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["workspace_id", "provider", "dedup_key"])
        .returning(InboundEvent.id)
    )
