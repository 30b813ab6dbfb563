"""Teammates' shifts in workspace.yaml: read like opening hours, checked, with places."""

from __future__ import annotations

import shutil
from datetime import time
from pathlib import Path

from dsl.config.loader import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _retail_with(tmp_path: Path, brian_shifts: str) -> Path:
    folder = tmp_path / "retail"
    shutil.copytree(CONFIGS / "retail", folder)
    workspace = folder / "workspace.yaml"
    text = workspace.read_text()
    anchor = "    capacity: 25\n    languages: [en, sw]\n  - handle: faith"
    assert anchor in text
    workspace.write_text(
        text.replace(
            anchor,
            f"    capacity: 25\n    languages: [en, sw]\n{brian_shifts}  - handle: faith",
        )
    )
    return folder


def test_shifts_are_read_per_weekday_and_teammates_without_them_are_always_on() -> None:
    config, diagnostics = load_config(CONFIGS / "retail")
    assert config is not None, diagnostics
    james = config.teammate("james")
    assert james is not None and james.shifts is not None
    assert [(s.weekday, s.opens, s.closes) for s in james.shifts] == [
        (0, time(8), time(17)),
        (2, time(8), time(17)),
        (4, time(8), time(13)),
    ]
    wanjiru = config.teammate("wanjiru")
    assert wanjiru is not None and wanjiru.shifts is None


def test_a_shift_that_ends_before_it_starts_is_an_error_at_its_place(tmp_path: Path) -> None:
    folder = _retail_with(tmp_path, "    shifts:\n      tuesday: 09:00-12:00, 17:00-14:00\n")
    config, diagnostics = load_config(folder)
    assert config is None
    [error] = [d for d in diagnostics if d.code == "E026"]
    assert error.span.file.endswith("workspace.yaml")
    line = (folder / "workspace.yaml").read_text().splitlines()[error.span.line - 1]
    assert line[error.span.column - 1 :].startswith("17:00-14:00")
    assert "tuesday" in error.message


def test_overlapping_shifts_are_an_error(tmp_path: Path) -> None:
    folder = _retail_with(tmp_path, "    shifts:\n      monday: 08:00-12:00, 11:00-15:00\n")
    _, diagnostics = load_config(folder)
    assert [d.code for d in diagnostics if d.severity.value == "error"] == ["E027"]


def test_shifts_without_any_hours_warn_that_routing_never_picks_them(tmp_path: Path) -> None:
    folder = _retail_with(tmp_path, "    shifts:\n      monday: closed\n")
    config, diagnostics = load_config(folder)
    assert config is not None
    [warning] = [d for d in diagnostics if d.code == "W023"]
    assert "brian" in warning.message
    brian = config.teammate("brian")
    assert brian is not None and brian.shifts == ()


def test_a_misspelt_weekday_in_shifts_is_refused_by_the_schema(tmp_path: Path) -> None:
    folder = _retail_with(tmp_path, "    shifts:\n      mondey: 08:00-12:00\n")
    config, diagnostics = load_config(folder)
    assert config is None
    assert any(d.code == "E010" and "mondey" in d.message for d in diagnostics)
