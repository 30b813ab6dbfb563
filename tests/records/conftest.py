"""Fixtures for tests that touch the customer record.

`db` (a migrated Engine for the session's database) and `workspace_id` (a fresh
workspace per test) match tests/runtime/conftest.py; both belong in
tests/conftest.py once someone who owns it moves them up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from engine.db import make_engine, migrate, system_session
from engine.models import Workspace


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def make_workspace(db: Engine) -> Callable[[], int]:
    """Creates workspaces of this test's own, so tests never see each other's rows."""

    def make() -> int:
        slug = f"ws-{uuid.uuid4().hex[:10]}"
        with system_session(db) as session:
            workspace = Workspace(slug=slug, name=f"Test {slug}", timezone="Africa/Nairobi")
            session.add(workspace)
            session.commit()
            return workspace.id

    return make


@pytest.fixture()
def workspace_id(make_workspace: Callable[[], int]) -> int:
    return make_workspace()
