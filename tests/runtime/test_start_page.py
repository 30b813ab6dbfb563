"""The public start page says Kazi is up and where to sign in, and names no workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import Engine

from engine.composition import build_runtime
from engine.settings import Settings
from engine.workspaces.load import load_folder
from ui.app import create_app


def test_the_start_page_is_up_and_names_no_workspace(
    db: Engine, database_url: str, retail_copy: tuple[Path, str], tmp_path: Path, queue_name: str
) -> None:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, datetime.now(UTC))
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    with TestClient(create_app(build_runtime(settings))) as client:
        page = client.get("/")
        ready = client.get("/readyz")
    assert page.status_code == 200 and "Sign in" in page.text
    assert "Duka Bora" not in page.text and slug not in page.text
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}
