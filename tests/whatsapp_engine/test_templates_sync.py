"""Issue 15: `kazi templates sync` reads Meta's template list (here the simulator's Graph
API), keeps each template's status for send-time refusal, and reports what differs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.policy import ApprovedTemplate
from connectors.whatsapp.simulator import ServerThread, create_app
from connectors.whatsapp.simulator.payloads import Business
from connectors.whatsapp.simulator.script import Script
from connectors.whatsapp.simulator.world import Simulator, SimulatorConfig
from engine.db import workspace_session
from engine.models import TemplateStatus
from engine.whatsapp.account import template_refusal
from engine.whatsapp.templates import TemplateSyncFailed, sync_workspace_templates
from engine.workspaces.directory import ConfigDirectory, read_folder
from engine.workspaces.load import load_folder
from ui.cli import main
from ui.commands.simulate import approved_templates

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TOKEN = "templates-sync-token"
WABA = "102938475610293"  # configs/retail/integrations.yaml


@pytest.fixture()
def meta(retail_copy: tuple[Path, str]) -> Iterator[tuple[str, Simulator]]:
    """Meta's side: the retail templates approved, but `review_request` never submitted
    and an old `winter_sale` only on Meta."""
    config_dir, slug = retail_copy
    approved = [
        t for t in approved_templates(read_folder(config_dir / slug)) if t.name != "review_request"
    ]
    approved.append(ApprovedTemplate("winter_sale", frozenset({"en"})))
    simulator = Simulator(
        SimulatorConfig(
            app_secret="unused",
            access_token=TOKEN,
            business=Business(WABA, "104729384756101", "254711502300"),
            autostart=False,
        ),
        Script((), tuple(approved)),
    )
    with ServerThread(create_app(simulator)) as server:
        yield server.url, simulator


def test_sync_keeps_statuses_refuses_a_paused_template_and_reports_differences(
    db: Engine, retail_copy: tuple[Path, str], meta: tuple[str, Simulator]
) -> None:
    config_dir, slug = retail_copy
    workspace_id = load_folder(db, config_dir / slug, NOW)
    url, _ = meta
    # Meta pauses the Swahili quote; the webhook telling Kazi never arrived.
    httpx.post(
        f"{url}/_sim/webhooks/template-status",
        json={"event": "PAUSED", "name": "quote_ready", "language": "sw", "reason": "LOW_QUALITY"},
    )
    env = {"KAZI_RETAIL_WA_ACCESS_TOKEN": TOKEN, "KAZI_WHATSAPP_API_URL": url}
    report = sync_workspace_templates(db, ConfigDirectory(config_dir), slug, NOW, env=env)
    assert [line.split(":")[0] for line in report.missing] == ["review_request (en)"]
    assert report.differ == ["quote_ready (sw): status PAUSED"]
    assert report.unused == ["winter_sale (en) APPROVED"]
    assert not report.clean
    with workspace_session(db, workspace_id) as session:
        rows = {(r.name, r.language): r for r in session.scalars(select(TemplateStatus))}
        assert rows[("quote_ready", "sw")].status == "PAUSED"
        assert rows[("quote_ready", "en")].status == "APPROVED"
        assert rows[("quote_ready", "en")].provider_template_id
        refusal = template_refusal(session, "quote_ready", "sw")
        assert refusal is not None and refusal[0] == "132015"
        assert template_refusal(session, "quote_ready", "en") is None


def test_a_wrong_token_is_reported_not_a_traceback(
    db: Engine, retail_copy: tuple[Path, str], meta: tuple[str, Simulator]
) -> None:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, NOW)
    env = {"KAZI_RETAIL_WA_ACCESS_TOKEN": "expired", "KAZI_WHATSAPP_API_URL": meta[0]}
    with pytest.raises(TemplateSyncFailed, match="190"):
        sync_workspace_templates(db, ConfigDirectory(config_dir), slug, NOW, env=env)


def test_the_command_prints_the_report_and_exits_1_on_differences(
    db: Engine,
    database_url: str,
    retail_copy: tuple[Path, str],
    meta: tuple[str, Simulator],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, NOW)
    for name, value in {
        "KAZI_DATABASE_URL": database_url,
        "KAZI_CONFIG_DIR": str(config_dir),
        "KAZI_VAR_DIR": str(tmp_path),
        "KAZI_RETAIL_WA_ACCESS_TOKEN": TOKEN,
        "KAZI_WHATSAPP_API_URL": meta[0],
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["templates", "sync", "--workspace", slug]) == 1
    out = capsys.readouterr().out
    assert "missing on Meta: review_request (en)" in out
    assert "on Meta, not in templates.yaml: winter_sale (en) APPROVED" in out
