"""Inbound events, outbox rows, rule firings and config versions: the keys that make
redelivery and retries harmless (DESIGN rules 2 and 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, StatementError

from engine.db import workspace_session
from engine.models import ConfigVersion, InboundEvent, OutboxRow, RuleFiring
from tests.records.moments import NOW


def inbound(key: str, **overrides: object) -> InboundEvent:
    values: dict[str, object] = {
        "provider": "whatsapp",
        "dedup_key": key,
        "payload": {"entry": [{"id": "1"}]},
        "signature_ok": True,
        "received_at": NOW,
    }
    values.update(overrides)
    return InboundEvent(**values)


def test_a_duplicate_inbound_event_is_refused_by_the_unique_key(
    db: Engine, workspace_id: int
) -> None:
    with workspace_session(db, workspace_id) as session:
        session.add(inbound("wamid.A:message"))
        session.commit()
        session.add(inbound("wamid.A:message", payload={"redelivered": True}))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # Same id, another status, or another provider: a different event.
        session.add_all(
            [
                inbound("wamid.A:status:delivered"),
                inbound("wamid.A:message", provider="mpesa"),
            ]
        )
        session.commit()
        assert session.scalars(select(InboundEvent.state)).all() == ["received"] * 3


def test_the_same_dedup_key_in_two_workspaces_is_two_events(
    db: Engine, make_workspace: Callable[[], int]
) -> None:
    for workspace_id in (make_workspace(), make_workspace()):
        with workspace_session(db, workspace_id) as session:
            session.add(inbound("wamid.shared:message"))
            session.commit()


def test_an_outbox_action_is_one_row_per_idempotency_key(db: Engine, workspace_id: int) -> None:
    def row() -> OutboxRow:
        return OutboxRow(kind="send_message", payload={"text": "Asante"}, idempotency_key="k-1")

    with workspace_session(db, workspace_id) as session:
        first = row()
        session.add(first)
        session.commit()
        assert (first.state, first.attempts, first.lease_expires_at) == ("queued", 0, None)
        assert first.created_at.tzinfo is not None
        session.add(row())
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_rule_fires_once_per_triggering_event(db: Engine, workspace_id: int) -> None:
    def firing() -> RuleFiring:
        return RuleFiring(
            rule_name="greet_new_customers",
            trigger_key="message:wamid.A",
            outcome="fired",
            fired_at=NOW,
        )

    with workspace_session(db, workspace_id) as session:
        session.add(firing())
        session.commit()
        session.add(firing())
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_config_version_is_active_per_workspace(db: Engine, workspace_id: int) -> None:
    with workspace_session(db, workspace_id) as session:
        old = ConfigVersion(hash="a" * 64, compiled_at=NOW, active=True)
        session.add(old)
        session.commit()
        new = ConfigVersion(hash="b" * 64, compiled_at=NOW + timedelta(hours=1), active=True)
        session.add(new)
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        old.active = False
        session.flush()
        session.add(ConfigVersion(hash="b" * 64, compiled_at=NOW, active=True))
        session.commit()
        session.add(ConfigVersion(hash="b" * 64, compiled_at=NOW))
        with pytest.raises(IntegrityError):
            session.commit()


def test_times_go_in_aware_and_come_back_aware_utc(db: Engine, workspace_id: int) -> None:
    nairobi = timezone(timedelta(hours=3))
    lease = datetime(2026, 11, 25, 12, 30, tzinfo=nairobi)
    with workspace_session(db, workspace_id) as session:
        event = inbound("wamid.T:message", lease_expires_at=lease)
        session.add(event)
        session.commit()
        event_id = event.id

    with workspace_session(db, workspace_id) as session:
        stored = session.get_one(InboundEvent, event_id)
        assert stored.lease_expires_at == lease
        assert stored.lease_expires_at is not None
        assert stored.lease_expires_at.utcoffset() == timedelta(0)
        assert stored.received_at == NOW
        # Comparisons in SQL are between instants, whatever zone the caller used.
        due = session.scalars(
            select(InboundEvent.id).where(
                InboundEvent.lease_expires_at <= datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
            )
        ).all()
        assert due == [event_id]
        stored.processed_at = datetime(2026, 11, 25, 9, 31)  # naive: refused
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
