from __future__ import annotations

import uuid
from collections.abc import Iterator

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
def workspace_id(db: Engine) -> int:
    """A workspace of this test's own, so tests never see each other's rows."""
    slug = f"ws-{uuid.uuid4().hex[:8]}"
    with system_session(db) as session:
        workspace = Workspace(slug=slug, name=f"Test {slug}", timezone="Africa/Nairobi")
        session.add(workspace)
        session.commit()
        return workspace.id
