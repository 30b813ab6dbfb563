"""Real server and worker processes get a database of their own per test: a worker
sweeps every workspace in its database and would otherwise send other tests' rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.db import make_engine, migrate
from tests.conftest import empty_database


@pytest.fixture()
def database_url(tmp_path: Path) -> Iterator[str]:
    with empty_database(tmp_path) as url:
        yield url


@pytest.fixture()
def db(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
