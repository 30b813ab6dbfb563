"""`kazi simulate`: arguments, refusals, and a real process answering on its port."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SERVER_START_SECONDS
from ui.commands import simulate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_register_adds_the_subcommand_with_its_handler() -> None:
    parser = argparse.ArgumentParser()
    simulate.register(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(
        ["simulate", "--webhook-url", "http://x/h", "--app-secret", "s", "--faults", "429:1"]
    )
    assert arguments.handler is simulate.run
    assert (arguments.bind, arguments.faults, arguments.window_errors) == (
        "127.0.0.1:8090",
        "429:1",
        "async",
    )


def test_refusals_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(simulate.SECRET_VARIABLE, raising=False)
    base = ["--webhook-url", "http://127.0.0.1:1/h"]
    assert simulate.main(base) == 2
    assert "--app-secret" in capsys.readouterr().err
    assert simulate.main([*base, "--app-secret", "s", "--faults", "explode"]) == 2
    assert "unknown fault" in capsys.readouterr().err
    assert simulate.main([*base, "--app-secret", "s", "--bind", "nowhere"]) == 2
    missing = tmp_path / "missing.yaml"
    assert simulate.main([*base, "--app-secret", "s", "--script", str(missing)]) == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_the_command_serves_the_simulator(repo_root: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ui.commands.simulate",
            "--webhook-url",
            "http://127.0.0.1:9/nowhere",
            "--app-secret",
            "s",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-script",
            "--faults",
            "500:1",
        ],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS  # slow to start on a busy machine
        while True:
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=1).json()
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the simulator did not answer"
                time.sleep(0.1)
        assert state["faults"]["http_500"] == 1
        # The demo customers are listed; with --no-script none of them has written.
        assert len(state["customers"]) >= 3
        assert all(customer["chat"] == [] for customer in state["customers"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_workspace_s_templates_are_approved_in_every_language(repo_root: Path) -> None:
    from engine.workspaces.directory import read_folder

    approved = {
        t.name: t for t in simulate.approved_templates(read_folder(repo_root / "configs/retail"))
    }
    assert approved["quote_ready"].languages == {"en", "sw"}
    assert approved["quote_ready"].body_parameters == 3


def test_an_unreadable_workspace_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    arguments = ["--webhook-url", "http://127.0.0.1:1/h", "--app-secret", "s"]
    assert simulate.main([*arguments, "--workspace", str(tmp_path / "nothing")]) == 2
    assert "nothing" in capsys.readouterr().err
