"""`when inquiry classified as "X"`: parsed, checked against the intents, keyed by intent."""

from __future__ import annotations

import shutil
from pathlib import Path

from dsl.workspace import compile_workspace
from engine.workspaces.installed import INSTALLED


def _with_rule(tmp_path: Path, repo_root: Path, rule: str) -> Path:
    folder = tmp_path / "retail"
    shutil.copytree(repo_root / "configs" / "retail", folder)
    (folder / "rules" / "extra.kazi").write_text(rule, encoding="utf-8")
    return folder


def test_the_trigger_compiles_keyed_by_intent(tmp_path: Path, repo_root: Path) -> None:
    folder = _with_rule(
        tmp_path,
        repo_root,
        'rule "Sure price questions"\nwhen inquiry classified as "price"\n'
        'if inquiry.confidence > 0.6 and inquiry.text contains "tv"\nthen\n  tag "tv-price"\nend\n',
    )
    result = compile_workspace(folder, capabilities=INSTALLED)
    assert result.ok, [d.headline() for d in result.diagnostics if d.is_error]
    assert result.graph is not None
    rule = next(r for r in result.graph.rules if r.name == "Sure price questions")
    assert (rule.trigger, rule.key) == ("inquiry_classified", "price")


def test_an_unknown_intent_is_refused_with_a_suggestion(tmp_path: Path, repo_root: Path) -> None:
    folder = _with_rule(
        tmp_path,
        repo_root,
        'rule "Typo"\nwhen inquiry classified as "warranti"\nthen\n  tag "x"\nend\n',
    )
    result = compile_workspace(folder, capabilities=INSTALLED)
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.code, d.span.line, d.span.column) for d in errors] == [("E127", 2, 28)]
    assert errors[0].suggestion == "did you mean 'warranty'?"


def test_inquiry_fields_only_in_inquiry_rules(tmp_path: Path, repo_root: Path) -> None:
    folder = _with_rule(
        tmp_path,
        repo_root,
        'rule "Wrong root"\nwhen message received\nif inquiry.intent is "price"\n'
        'then\n  tag "x"\nend\n',
    )
    result = compile_workspace(folder, capabilities=INSTALLED)
    assert "E117" in [d.code for d in result.diagnostics if d.is_error]
