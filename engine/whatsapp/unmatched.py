"""Provider updates about a message Kazi does not have yet (reference §6.4, §5.8, §5.13).

A status can beat the send's answer; a reaction or an edit can beat the message it is
about; some are about messages Kazi never sees (another app on the number, the
dashboard). Each is kept as an UnmatchedItem — never retried with a traceback — and
applied the moment a message with that wamid is stored. After ORPHAN_AFTER it is
called an orphan (shown as such), but still applied if the message does turn up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.whatsapp.events import WhatsAppEvent
from engine.models import UnmatchedItem, UnmatchedState

# A send's answer comes in seconds; a timed-out send is matched by its callback data.
# A day later, the message is not coming through Kazi.
ORPHAN_AFTER = timedelta(hours=24)


def keep_unmatched(
    session: Session,
    item: WhatsAppEvent,
    *,
    target: str | None,
    kind: str,
    summary: str,
    inbound_event_id: int | None,
    now: datetime,
) -> UnmatchedItem:
    """Keep `item` until the message `target` is stored. With no target at all it can never
    match, so it is an orphan from the start."""
    payload = item.envelope if isinstance(item.envelope, dict) else {"raw": item.raw}
    row = UnmatchedItem(
        target_provider_message_id=target or "",
        kind=kind,
        summary=summary[:255],
        payload=payload,
        inbound_event_id=inbound_event_id,
        state=UnmatchedState.WAITING if target else UnmatchedState.ORPHANED,
        received_at=now,
    )
    session.add(row)
    park_stale(session, now)
    session.flush()
    return row


def park_stale(session: Session, now: datetime) -> None:
    """Call the items that waited longer than ORPHAN_AFTER orphans (an indexed update of
    the few waiting rows, done whenever a new one is kept)."""
    session.execute(
        update(UnmatchedItem)
        .where(
            UnmatchedItem.state == UnmatchedState.WAITING,
            UnmatchedItem.received_at < now - ORPHAN_AFTER,
        )
        .values(state=UnmatchedState.ORPHANED)
        .execution_options(synchronize_session=False)
    )


def waiting_for(session: Session, provider_message_id: str) -> list[UnmatchedItem]:
    """Items about this message not applied yet (waiting or orphaned), oldest first."""
    if not provider_message_id:
        return []
    return list(
        session.scalars(
            select(UnmatchedItem)
            .where(
                UnmatchedItem.target_provider_message_id == provider_message_id,
                UnmatchedItem.state != UnmatchedState.APPLIED,
            )
            .order_by(UnmatchedItem.id)
        )
    )
