"""The three sample workspaces validate clean and their scenarios pass, through the CLI too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.scenarios import run_folder
from dsl.workspace import compile_workspace
from engine.workspaces.installed import INSTALLED
from ui.commands.config import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ["retail", "firm", "distributor"]


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_validates_clean(name: str) -> None:
    """No errors; the only warnings are messages that wait for staff to fill in a value
    (W104: an order's amount before the quote), which the samples do on purpose."""
    result = compile_workspace(ROOT / "configs" / name, capabilities=INSTALLED)
    assert [d.headline() for d in result.diagnostics if d.code != "W104"] == []
    assert result.graph is not None and result.ok
    assert len(result.graph.rules) >= 10
    assert result.version == result.graph.version and len(result.version) == 64


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_scenarios_pass(name: str) -> None:
    result = compile_workspace(ROOT / "configs" / name, capabilities=INSTALLED)
    assert result.graph is not None
    outcomes = run_folder(result.graph, ROOT / "configs" / name)
    assert len(outcomes) >= 6
    assert [(o.name, o.failures) for o in outcomes if not o.passed] == []


def test_the_version_is_stable_and_ignores_layout(tmp_path: Path) -> None:
    first = compile_workspace(ROOT / "configs" / "retail", capabilities=INSTALLED).version
    assert compile_workspace(ROOT / "configs" / "retail", capabilities=INSTALLED).version == first
    copy = tmp_path / "retail"
    shutil.copytree(ROOT / "configs" / "retail", copy)
    rules = copy / "rules" / "sales.kazi"
    rules.write_text("\n\n# moved down two lines\n" + rules.read_text(encoding="utf-8"))
    assert compile_workspace(copy, capabilities=INSTALLED).version == first
    rules.write_text(rules.read_text(encoding="utf-8").replace("due in 30m", "due in 45m"))
    assert compile_workspace(copy, capabilities=INSTALLED).version != first


def test_cli_validate_prints_like_a_compiler_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "retail"
    shutil.copytree(ROOT / "configs" / "retail", copy)
    rules = copy / "rules" / "sales.kazi"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace('entered "quote"', 'entered "qoute"')
    )
    assert main(["validate", str(copy)]) == 1
    out = capsys.readouterr().out
    assert f"{rules}:14:20: error[E104]: unknown stage 'qoute' (did you mean 'quote'?)" in out
    assert '    when stage entered "qoute"\n                       ^^^^^^^' in out
    assert main(["validate", str(copy), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    errors = [d for d in payload["diagnostics"] if d["severity"] == "error"]
    assert [e["code"] for e in errors] == ["E104"]
    assert (errors[0]["line"], errors[0]["column"]) == (14, 20)


def test_cli_validate_and_test_pass_on_a_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "configs" / "firm")]) == 0
    assert "0 errors, 4 warnings" in capsys.readouterr().out
    assert main(["test", str(ROOT / "configs" / "firm")]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_cli_test_fails_with_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "retail"
    shutil.copytree(ROOT / "configs" / "retail", copy)
    scenario = copy / "tests" / "payments.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace('[Achieng, "23500"', '[Akinyi, "23500"')
    )
    assert main(["test", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  Accepting the quote" in out
    assert "--- expected effects" in out and "+++ actual effects" in out


def test_cli_explain_lists_rules_by_trigger_and_traces_an_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(ROOT / "configs" / "retail")]) == 0
    out = capsys.readouterr().out
    assert 'when stage entered "quote":\n  Send the quote' in out
    event = tmp_path / "event.yaml"
    event.write_text(
        "kind: message received\nat: 2026-03-02T10:00:00+03:00\n"
        "message: {text: 'hello there'}\n"
        "conversation: {pipeline: sales, stage: inquiry}\n"
    )
    assert main(["explain", str(ROOT / "configs" / "retail"), "--event", str(event)]) == 0
    out = capsys.readouterr().out
    assert (
        "no       Price questions are tagged for sales: false: message.text contains any of" in out
    )
    assert "no       Night messages wait for the morning: false: outside business hours" in out


def test_the_version_does_not_depend_on_hash_randomisation() -> None:
    script = (
        "from pathlib import Path; from dsl.workspace import compile_workspace; "
        "from engine.workspaces.installed import INSTALLED; "
        f"print(compile_workspace(Path({str(ROOT / 'configs' / 'firm')!r}), "
        "capabilities=INSTALLED).version)"
    )
    versions = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("0", "12345")
    }
    assert versions == {
        compile_workspace(ROOT / "configs" / "firm", capabilities=INSTALLED).version
    }
