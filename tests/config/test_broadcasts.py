"""broadcasts.yaml: named segments for consultants to review, refused at their line when
they select a stage or field the workspace does not have."""

from __future__ import annotations

import shutil
from pathlib import Path

from dsl.config import load_config

HERE = Path(__file__).parent


def folder_with(tmp_path: Path, text: str) -> Path:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "broadcasts.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_sample_segments_load_with_their_limits(repo_root: Path) -> None:
    config, diagnostics = load_config(repo_root / "configs" / "retail")
    assert config is not None, diagnostics
    resellers = config.broadcasts.segment("nairobi-resellers")
    assert resellers is not None
    assert resellers.fields == (("county", "nairobi"), ("customer_type", "reseller"))
    assert config.broadcasts.messaging_limit == 1000
    assert config.broadcasts.reply_window_minutes == 3 * 24 * 60


def test_an_unknown_stage_field_or_twice_named_segment_is_refused_at_its_line(
    tmp_path: Path,
) -> None:
    folder = folder_with(
        tmp_path,
        "segments:\n"
        "  - name: a\n"
        "    stage: qoute\n"
        "  - name: b\n"
        "    fields:\n"
        "      shoe_size: 42\n"
        "  - name: a\n",
    )
    config, diagnostics = load_config(folder)
    assert config is None
    errors = [
        (d.span.file.endswith("broadcasts.yaml"), d.span.line, d.message) for d in diagnostics
    ]
    assert (True, 3, "segment 'a' selects stage 'qoute', which no conversation pipeline has") in [
        e for e in errors
    ]
    assert any(line == 6 and "field 'shoe_size'" in message for _, line, message in errors)
    assert any(line == 7 and "declared twice" in message for _, line, message in errors)
    [stage] = [d for d in diagnostics if d.span.line == 3]
    assert stage.suggestion == "did you mean 'quote'?"


def test_a_wrong_value_is_refused_by_the_schema_with_its_place(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "messaging_limit: lots\nsegments:\n  - name: Big Spenders\n")
    config, diagnostics = load_config(folder)
    assert config is None
    lines = sorted(d.span.line for d in diagnostics if d.span.file.endswith("broadcasts.yaml"))
    assert lines == [1, 3]
