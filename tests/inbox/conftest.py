from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from engine.composition import Runtime, build_runtime
from engine.core.clock import FrozenClock
from engine.db import make_engine, migrate
from engine.settings import Settings
from tests.inbox.seed import NOW, World, fast_password_hashing, make_world
from tests.inbox.web import Web
from ui.app import create_app


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    with fast_password_hashing():
        yield


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def world(db: Engine) -> World:
    return make_world(db)


@pytest.fixture()
def runtime(
    database_url: str, db: Engine, world: World, tmp_path: Path, repo_root: Path, queue_name: str
) -> Iterator[Runtime]:
    """A runtime on the test database whose config folder serves the world's workspace
    with the retail sample's templates."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / world.slug).symlink_to(repo_root / "configs" / "retail")
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(configs),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    yield runtime


def _web(runtime: Runtime, world: World) -> Iterator[Web]:
    assert isinstance(runtime.clock, FrozenClock)
    with TestClient(create_app(runtime)) as client:
        yield Web(client=client, world=world, runtime=runtime, clock=runtime.clock)


@pytest.fixture()
def web(runtime: Runtime, world: World) -> Iterator[Web]:
    yield from _web(runtime, world)


@pytest.fixture()
def web2(runtime: Runtime, world: World) -> Iterator[Web]:
    """A second browser on the same server, for a second teammate."""
    yield from _web(runtime, world)
