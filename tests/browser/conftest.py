"""A real server process and a real Chromium (Debian's /usr/bin/chromium, never a download)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine

from engine.db import make_engine, migrate
from tests.conftest import SERVER_START_SECONDS
from tests.inbox.seed import World, fast_password_hashing, make_world

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    world: World


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    world: World, database_url: str, redis_url: str | None, folder: Path, repo_root: Path
) -> Iterator[Server]:
    """`kazi serve` as its own process on a free port, serving `world`'s workspace."""
    configs = folder / "configs"
    configs.mkdir(exist_ok=True)
    if not (configs / world.slug).exists():
        (configs / world.slug).symlink_to(repo_root / "configs" / "retail")
    port = _free_port()
    env = {
        **os.environ,
        "KAZI_DATABASE_URL": database_url,
        "KAZI_CONFIG_DIR": str(configs),
        "KAZI_VAR_DIR": str(folder / "var"),
        "KAZI_QUEUE_NAME": f"kazi-browser-{uuid.uuid4().hex[:10]}",
        "KAZI_BIND": f"127.0.0.1:{port}",
    }
    if redis_url:
        env["KAZI_REDIS_URL"] = redis_url
    log_path = folder / f"server-{port}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve"],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: with xdist workers and other suites on 2 cores, starting takes long.
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"the server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Server(url=url, world=world)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def server(
    db: Engine,
    database_url: str,
    redis_url: str | None,
    tmp_path_factory: pytest.TempPathFactory,
    repo_root: Path,
) -> Iterator[Server]:
    """One server process for the module (starting one takes seconds); tests make their own
    conversations in its workspace."""
    folder = tmp_path_factory.mktemp("server")
    with running_server(make_world(db), database_url, redis_url, folder, repo_root) as running:
        yield running


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Fail, never skip: CI installs Debian's chromium; a missing browser is a broken setup."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
            "the browser tests never download a browser"
        )
    return CHROMIUM


@pytest.fixture()
def browser(chromium_path: Path) -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright; never a browser Playwright downloaded."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
