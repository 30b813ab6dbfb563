from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from engine.db import make_engine, migrate
from tests.inbox.seed import World, make_world


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def world(db: Engine) -> World:
    return make_world(db)
