"""Shared test fixtures: which database and queue this run talks to.

`make test` runs the suite twice: KAZI_TEST_BACKEND=sqlite, then
KAZI_TEST_BACKEND=postgres with huey on Redis. Each run gets a database of its
own (a fresh PostgreSQL database, dropped afterwards), so parallel runs on one
machine never meet.

Both passes run under pytest-xdist. Each worker has its own temporary folder (so
its own SQLite files), its own PostgreSQL databases, its own Redis database
number, and servers started by tests take free ports. With
KAZI_TEST_BACKEND_ONLY=1 (the Makefile's PostgreSQL pass) a run keeps only the
tests whose outcome can depend on the backend; the rest, and the Chromium tests,
already ran in the SQLite pass.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from engine.db import make_engine, migrate, system_session
from engine.models import Workspace

BACKEND = os.environ.get("KAZI_TEST_BACKEND", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get(
    "KAZI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# "gw0", "gw1" ... under pytest-xdist; unset in a plain run.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_DATABASES = 16  # redis-server's default number of databases


def worker_redis_url(url: str, worker: str = XDIST_WORKER) -> str:
    """`url` moved to a Redis database number of this xdist worker's own (gw0 takes the
    next number after the given one, gw1 the one after...), so workers never share keys."""
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    first = int(number) if number.isdigit() else 0
    return f"{base}/{(first + 1 + int(worker[2:])) % REDIS_DATABASES}"


REDIS_URL = worker_redis_url(os.environ.get("KAZI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
BACKEND_ONLY = os.environ.get("KAZI_TEST_BACKEND_ONLY") == "1"
# A test needing one of these fixtures talks to the run's database or queue.
BACKEND_FIXTURES = frozenset({"database_url", "redis_url", "db"})
# Chromium tests run in one pass only: the SQLite one, which every `make test` runs.
# The PostgreSQL server paths they drive (LISTEN/NOTIFY live updates, Redis queue)
# are covered without a browser (tests/inbox/test_live_notify.py, test_two_servers.py).
BROWSER_FIXTURE = "browser"
# How long a test waits for a `kazi serve` it started: seconds on a quiet machine, but
# with xdist workers and other suites sharing 2 cores, imports alone can take 30 s.
SERVER_START_SECONDS = 90


def pytest_report_header(config: pytest.Config) -> str:
    only = ", backend-dependent tests only" if BACKEND_ONLY else ""
    return f"kazi backend: {BACKEND}{only}"


def depends_on_backend(item: pytest.Item) -> bool:
    """Whether `item` can pass on one backend and fail on the other: it uses the run's
    database or queue, or its module reads the backend itself."""
    if BROWSER_FIXTURE in getattr(item, "fixturenames", ()):
        return False
    if BACKEND_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    source = getattr(module, "__file__", None)
    if source is None:
        return True
    text = Path(source).read_text(encoding="utf-8")
    return "KAZI_TEST_BACKEND" in text or "import BACKEND" in text


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not BACKEND_ONLY:
        return
    keep = [item for item in items if depends_on_backend(item)]
    if len(keep) < len(items):
        kept = {id(item) for item in keep}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep


@contextmanager
def empty_database(folder: Path) -> Iterator[str]:
    """A URL of a new, empty database: a SQLite file in `folder`, or a PostgreSQL
    database created now and dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{folder / 'kazi.sqlite3'}"
        return
    if BACKEND != "postgres":
        raise pytest.UsageError(f"KAZI_TEST_BACKEND={BACKEND!r}: use sqlite or postgres")
    name = f"kazi_test_{XDIST_WORKER or 'main'}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of an empty database that lives for this test session."""
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    """Redis for huey when the run is on PostgreSQL; None means huey on SQLite."""
    return REDIS_URL if BACKEND == "postgres" else None


@pytest.fixture()
def queue_name() -> str:
    """A huey queue name of this test's own, so runs never share queued jobs."""
    return f"kazi-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture()
def retail_copy(tmp_path: Path, repo_root: Path) -> tuple[Path, str]:
    """The retail sample under a slug of this test's own: (config dir, slug).

    Tests share one database per run, so each loads its own copy of the
    workspace instead of meeting other tests' contacts and events in `retail`.
    """
    slug = f"retail_{uuid.uuid4().hex[:8]}"
    config_dir = tmp_path / "configs"
    shutil.copytree(repo_root / "configs" / "retail", config_dir / slug)
    workspace_file = config_dir / slug / "workspace.yaml"
    text = workspace_file.read_text(encoding="utf-8")
    assert "\nslug: retail\n" in text
    workspace_file.write_text(text.replace("\nslug: retail\n", f"\nslug: {slug}\n"), "utf-8")
    return config_dir, slug


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Engine]:
    """A migrated Engine on this run's database."""
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def make_workspace(db: Engine) -> Callable[[], int]:
    """Creates workspaces of this test's own, so tests never see each other's rows."""

    def make() -> int:
        slug = f"ws_{uuid.uuid4().hex[:10]}"
        with system_session(db) as session:
            workspace = Workspace(slug=slug, name=f"Test {slug}", timezone="Africa/Nairobi")
            session.add(workspace)
            session.commit()
            return workspace.id

    return make


@pytest.fixture()
def workspace_id(make_workspace: Callable[[], int]) -> int:
    return make_workspace()
