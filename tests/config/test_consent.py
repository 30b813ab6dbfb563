"""consent.yaml: opt-out and opt-in keywords per language, each word meaning one thing."""

from __future__ import annotations

import shutil
from pathlib import Path

from dsl.config import load_config

HERE = Path(__file__).parent


def test_retail_stops_on_stop_and_acha_and_answers_in_the_same_language(
    repo_root: Path,
) -> None:
    config, _ = load_config(repo_root / "configs" / "retail")
    assert config is not None
    acha = config.consent_keyword("acha!")
    assert acha is not None and (acha.action, acha.language) == ("opt_out", "sw")
    assert acha.reply is not None and acha.reply.startswith("Hutapokea")
    start = config.consent_keyword("Start")
    assert start is not None and start.action == "opt_in"
    assert config.consent_keyword("stop sending the old price please") is None


def test_a_word_that_both_stops_and_starts_is_refused(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "consent.yaml").write_text(
        "opt_out:\n  keywords:\n    en: [STOP]\nopt_in:\n  keywords:\n    en: [stop]\n",
        encoding="utf-8",
    )
    config, diagnostics = load_config(tmp_path)
    assert config is None
    [error] = [d for d in diagnostics if d.is_error]
    assert "already an opt_out keyword" in error.message
    assert (error.span.file.endswith("consent.yaml"), error.span.line) == (True, 6)


def test_a_folder_without_consent_yaml_has_no_keywords(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "consent.yaml").unlink()
    config, _ = load_config(tmp_path)
    assert config is not None and config.consent_keywords == ()
