"""Alembic's entry point: runs the migrations on the URL engine.db.migrate passes in."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON, text

from engine.db.engine import make_engine
from engine.models import Base
from engine.models.base import UTCDateTime

# Arbitrary but fixed: every Kazi process that migrates waits on the same lock.
MIGRATION_LOCK_ID = 4_817_221_001


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render Kazi's own column types as plain SQLAlchemy ones, so migration
    scripts never import application code that may change under them."""
    if kind != "type":
        return False
    if isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(item, JSON) and "postgresql" in item._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def run_migrations_online() -> None:
    config = context.config
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: call engine.db.migrate(url)")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            is_sqlite = connection.dialect.name == "sqlite"
            if is_sqlite:
                # Batch migrations rebuild tables (copy, drop, rename); with foreign
                # keys on, dropping a referenced table would cascade-delete its
                # children. The pragma only works outside a transaction, so it goes
                # to the driver before SQLAlchemy begins one; engine.dispose() below
                # throws this connection away afterwards.
                driver = connection.connection.driver_connection
                if driver is not None:
                    driver.execute("PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=is_sqlite,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Several servers starting at once: one migrates, the others
                    # wait and then find nothing left to do.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                    )
                context.run_migrations()
                if is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Kazi migrates online only: call engine.db.migrate(url)")
run_migrations_online()
