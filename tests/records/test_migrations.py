"""Models and migrations agree, on the database this run uses (SQLite or PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from engine.db import alembic_config, make_engine, migrate
from engine.models import Base


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_models_and_migrations_agree(db: Engine) -> None:
    assert differences(db) == []


def test_the_database_is_at_the_newest_revision(db: Engine, database_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    with db.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_every_constraint_and_index_has_a_conventional_name() -> None:
    """Named constraints are what let a later migration alter them on both databases."""
    for table in Base.metadata.tables.values():
        names = [c.name for c in table.constraints] + [i.name for i in table.indexes]
        assert all(names), f"an unnamed constraint or index on {table.name}"
        too_long = [str(name) for name in names if len(str(name)) > 63]
        assert too_long == [], f"too long for PostgreSQL: {too_long}"


@pytest.fixture()
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database on the same server, for tests that go down and up."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"kazi_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_go_down_and_up_again(scratch_url: str) -> None:
    migrate(scratch_url)
    migrate(scratch_url)  # already current: nothing to do, no error
    config = alembic_config(scratch_url)
    command.downgrade(config, "base")
    engine = make_engine(scratch_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(scratch_url)
        assert differences(engine) == []
    finally:
        engine.dispose()
