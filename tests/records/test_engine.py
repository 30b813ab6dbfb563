"""make_engine: SQLite set up for several processes, PostgreSQL through psycopg 3."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from engine.db import make_engine, workspace_session
from engine.models import InboundEvent
from tests.records.moments import NOW


def test_sqlite_is_ready_for_several_processes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/pragmas.sqlite3")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000}
    finally:
        engine.dispose()


def test_postgresql_urls_are_pinned_to_psycopg_3() -> None:
    engine = make_engine("postgresql://kazi@127.0.0.1:1/kazi")
    try:
        assert engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping
    finally:
        engine.dispose()


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="sqlite or postgresql"):
        make_engine("mysql://kazi@localhost/kazi")


def test_writers_racing_on_one_row_wait_instead_of_failing(db: Engine, workspace_id: int) -> None:
    """Read, then write, in one transaction, from several connections at once: on
    SQLite a lazily begun transaction would fail with "database is locked" when
    it upgrades its read lock; BEGIN IMMEDIATE makes writers queue instead."""
    with workspace_session(db, workspace_id) as session:
        event = InboundEvent(
            provider="race", dedup_key="counter", payload={}, signature_ok=True, received_at=NOW
        )
        session.add(event)
        session.commit()
        event_id = event.id

    def bump(_: int) -> None:
        with workspace_session(db, workspace_id) as session:
            seen = session.scalar(select(InboundEvent.attempts).where(InboundEvent.id == event_id))
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id == event_id, InboundEvent.attempts == seen)
                .values(attempts=InboundEvent.attempts + 1)
            )
            session.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(bump, range(40)))

    with workspace_session(db, workspace_id) as session:
        attempts = session.scalar(select(InboundEvent.attempts).where(InboundEvent.id == event_id))
    if db.dialect.name == "sqlite":
        # Serialised writers: every read-then-write saw the previous commit.
        assert attempts == 40
    else:
        # PostgreSQL's READ COMMITTED lets a racer's guarded update miss; none may fail.
        assert attempts is not None and 1 <= attempts <= 40
