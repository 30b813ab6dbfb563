"""`kazi simulate-mpesa`: arguments and refusals."""

from __future__ import annotations

import argparse

import pytest

from ui.commands import simulate_mpesa


def test_register_adds_the_subcommand() -> None:
    parser = argparse.ArgumentParser()
    simulate_mpesa.register(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(["simulate-mpesa", "--outcome", "cancel", "--faults", "500:1"])
    assert arguments.handler is simulate_mpesa.run
    assert (arguments.bind, arguments.outcome, arguments.faults) == (
        "127.0.0.1:8091",
        "cancel",
        "500:1",
    )


def test_refusals_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate_mpesa.main(["--bind", "nowhere"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    assert simulate_mpesa.main(["--faults", "explode"]) == 2
    assert "explode" in capsys.readouterr().err
