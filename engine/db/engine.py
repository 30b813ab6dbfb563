"""Building a SQLAlchemy Engine for Kazi's two databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

SQLITE_BUSY_TIMEOUT_SECONDS = 15


def make_engine(url: str, **options: Any) -> Engine:
    """An Engine for a SQLite file or a PostgreSQL database (through psycopg 3).

    SQLite is set up for several processes sharing one file (a server and a
    worker): WAL so readers never block the writer, foreign keys enforced, a
    busy timeout instead of instant "database is locked", and every transaction
    opened with BEGIN IMMEDIATE so two writers queue on the lock up front rather
    than one failing when it upgrades a read lock. Keep sessions short: an open
    transaction holds the write lock, so never wait on the network inside one.

    PostgreSQL connections are checked before use (pool_pre_ping) so a database
    restart costs a reconnect, not a failed request.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            **options,
        )
        _configure_sqlite(engine)
        return engine
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, **options)
    raise ValueError(f"Kazi runs on sqlite or postgresql, not {backend!r}")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would BEGIN
        # lazily, and only before writes) so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")
