"""Reliability tests run real stacks; each test gets a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.db import make_engine, migrate
from engine.workspaces.load import load_folder
from tests.conftest import empty_database
from tests.reliability.harness import Stack, build_stack, stop_stack


@pytest.fixture()
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of each test's own: workers sweep every workspace in their database,
    so a stack sharing the run's database would also send other tests' leftover rows
    (to its own simulator, whose statuses then land in the wrong workspace)."""
    with empty_database(tmp_path) as url:
        yield url


@pytest.fixture()
def db(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def workspace(db: Engine, retail_copy: tuple[Path, str]) -> tuple[int, Path, str]:
    """The retail sample loaded under a slug of this test's own: (id, config dir, slug)."""
    config_dir, slug = retail_copy
    return load_folder(db, config_dir / slug, datetime.now(UTC)), config_dir, slug


@pytest.fixture()
def stack(
    database_url: str,
    redis_url: str | None,
    queue_name: str,
    tmp_path: Path,
    db: Engine,
    workspace: tuple[int, Path, str],
) -> Iterator[Stack]:
    workspace_id, config_dir, slug = workspace
    running = build_stack(
        database_url=database_url,
        redis_url=redis_url,
        queue_name=queue_name,
        var_dir=tmp_path / "var",
        config_dir=config_dir,
        slug=slug,
        db=db,
        workspace_id=workspace_id,
    )
    yield running
    stop_stack(running)
