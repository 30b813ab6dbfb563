"""The shop fixture: a retail workspace served by Kazi, paid through the Daraja simulator."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.mpesa.simulator import DarajaWorld, SimulatorConfig, create_app
from connectors.whatsapp.simulator import ServerThread
from engine.composition import build_runtime
from engine.core.clock import FrozenClock
from engine.settings import Settings
from engine.workspaces.load import load_folder
from tests.payments.harness import SECRETS, TOKEN_VARIABLE, Shop
from ui.app import create_app as create_kazi

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def copy_retail(repo_root: Path, configs: Path) -> str:
    slug = f"retail_{uuid.uuid4().hex[:8]}"
    shutil.copytree(repo_root / "configs" / "retail", configs / slug)
    workspace_file = configs / slug / "workspace.yaml"
    workspace_file.write_text(
        workspace_file.read_text().replace("\nslug: retail\n", f"\nslug: {slug}\n")
    )
    # Transaction Status confirms paybill/till (C2B) payments when an initiator is named.
    with (configs / slug / "integrations.yaml").open("a") as integrations:
        integrations.write(
            "    initiator: kazi_api\n"
            "    security_credential: env:KAZI_RETAIL_MPESA_SECURITY_CREDENTIAL\n"
        )
    return slug


@pytest.fixture()
def shop(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    repo_root: Path,
    queue_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shop]:
    configs = tmp_path / "configs"
    slug = copy_retail(repo_root, configs)
    workspace_id = load_folder(db, configs / slug, NOW)
    token = uuid.uuid4().hex
    for variable, value in SECRETS.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv(TOKEN_VARIABLE, token)
    monkeypatch.setenv("KAZI_RETAIL_MPESA_SECURITY_CREDENTIAL", "c2VjcmV0")
    monkeypatch.setenv("KAZI_PAYMENT_RECONCILE_MINUTES", "3")
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(configs),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    clock = FrozenClock(NOW)
    runtime = build_runtime(settings, clock=clock)
    world = DarajaWorld(
        SimulatorConfig(
            consumer_key=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_KEY"],
            consumer_secret=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_SECRET"],
            passkeys={"5123874": SECRETS["KAZI_RETAIL_MPESA_PASSKEY"]},
            callback_delay=0.05,
            late_seconds=0.5,
        ),
        seed=12,
    )
    with ServerThread(create_kazi(runtime)) as kazi, ServerThread(create_app(world)) as daraja:
        monkeypatch.setenv("KAZI_PUBLIC_URL", kazi.url)
        monkeypatch.setenv("KAZI_MPESA_API_URL", daraja.url)
        yield Shop(
            db=db,
            runtime=runtime,
            world=world,
            clock=clock,
            slug=slug,
            workspace_id=workspace_id,
            token=token,
            kazi_url=kazi.url,
            simulator_url=daraja.url,
        )
    runtime.close()
