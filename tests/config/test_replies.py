"""replies.yaml: quick replies load with their variables checked, or the config is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

from dsl.config import load_config

HERE = Path(__file__).parent


def _folder(tmp_path: Path, replies: str) -> Path:
    folder = tmp_path / "shop"
    shutil.copytree(HERE / "minimal", folder)
    (folder / "replies.yaml").write_text(replies, encoding="utf-8")
    return folder


def test_retail_offers_its_replies_in_english_and_swahili(repo_root: Path) -> None:
    config, _ = load_config(repo_root / "configs" / "retail")
    assert config is not None
    price = [r for r in config.quick_replies if r.shortcut == "/price"]
    assert [r.language for r in price] == ["en", "sw"]
    assert price[0].text.startswith("Hi {{contact.first_name}}")
    assert price[0].span is not None and price[0].span.line == 4


def test_a_folder_without_replies_has_none(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    shutil.copytree(HERE / "minimal", folder)
    (folder / "replies.yaml").unlink()
    config, diagnostics = load_config(folder)
    assert config is not None and config.quick_replies == ()
    assert diagnostics == []


def test_every_variable_is_accepted_with_or_without_spaces(tmp_path: Path) -> None:
    text = "{{contact.first_name}} {{ contact.name }} {{agent.first_name }}"
    config, diagnostics = load_config(
        _folder(tmp_path, f'replies:\n  - shortcut: /hi\n    title: Hi\n    text: "{text}"\n')
    )
    assert [d.headline() for d in diagnostics] == []
    assert config is not None and config.quick_replies[0].text == text


def test_each_unknown_variable_is_its_own_error_and_refuses_the_config(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        "replies:\n"
        "  - shortcut: /hi\n"
        "    title: Hi\n"
        '    text: "{{1}} and {{order.amount}} and {{1}}"\n',
    )
    config, diagnostics = load_config(folder)
    assert config is None
    found = [(d.code, d.span.line, d.span.column) for d in diagnostics]
    assert found == [("E090", 4, 12), ("E090", 4, 22)]
    assert "contact.first_name" in (diagnostics[0].suggestion or "")


def test_the_same_shortcut_in_two_languages_is_fine(tmp_path: Path) -> None:
    config, diagnostics = load_config(
        _folder(
            tmp_path,
            "replies:\n"
            "  - {shortcut: /price, title: Price, language: en, text: Coming}\n"
            "  - {shortcut: /price, title: Bei, language: sw, text: Inakuja}\n",
        )
    )
    assert [d.headline() for d in diagnostics] == []
    assert config is not None and len(config.quick_replies) == 2
