"""Saving a config file keeps everything the edit did not touch, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from dsl.edit.folder import read_text
from dsl.edit.yaml_file import YamlFile, _yaml, plain, walk_scalars

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "configs").glob("*/*.yaml")) + sorted(
    (ROOT / "configs").glob("*/tests/*.yaml")
)
CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SAMPLES + CORPUS, ids=_name)
def test_a_file_saved_with_no_edit_is_identical(path: Path) -> None:
    text = read_text(path)
    assert YamlFile.parse(text).text() == text


@pytest.mark.parametrize("path", SAMPLES, ids=_name)
def test_ruamel_itself_round_trips_every_sample(path: Path) -> None:
    """The layout the builder dumps with is the samples' own: no merge needed there."""
    text = read_text(path)
    assert YamlFile.parse(text)._baseline == text


def _single_line_leaves(file: YamlFile) -> list[tuple[Any, ...]]:
    leaves = []
    for path, value in walk_scalars(file.document):
        if isinstance(value, LiteralScalarString | FoldedScalarString) or (
            isinstance(value, str) and "\n" in value
        ):
            continue
        if isinstance(value, bool | int | float | str) and path:
            leaves.append(path)
    return leaves


def _line_of(file: YamlFile, path: tuple[Any, ...]) -> int:
    parent = file.get(path[:-1])
    key = path[-1]
    line, _ = parent.lc.item(key) if isinstance(parent, list) else parent.lc.value(key)
    return int(line)


def _with(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(data, list):
        return [_with(v, tuple(rest), value) if i == head else v for i, v in enumerate(data)]
    return {k: _with(v, tuple(rest), value) if k == str(head) else v for k, v in data.items()}


FAITHFUL = [p for p in SAMPLES + CORPUS if YamlFile.parse(read_text(p))._baseline == read_text(p)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), new=st.text("abcdefghijklmnopqrstuvwxyz _-", min_size=1, max_size=20))
def test_setting_one_value_changes_only_its_line(data: st.DataObject, new: str) -> None:
    path = data.draw(st.sampled_from(FAITHFUL), label="file")
    text = read_text(path)
    file = YamlFile.parse(text)
    leaves = _single_line_leaves(file)
    if not leaves:
        return
    leaf = data.draw(st.sampled_from(leaves), label="leaf")
    before = plain(file.document)
    line = _line_of(file, leaf)
    file.set(leaf, new)
    saved = file.text()
    old_lines, new_lines = text.splitlines(keepends=True), saved.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert changed in ([line], [])
    assert plain(_yaml((2, 4, 2)).load(saved)) == _with(before, leaf, new)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), new=st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_an_edit_in_a_re_laid_file_still_reads_as_edited(data: st.DataObject, new: str) -> None:
    """Where ruamel would lay a file out differently, the saved file may change more
    lines than the edit's own, but it always reads back as exactly the edited data."""
    path = data.draw(st.sampled_from(CORPUS), label="file")
    file = YamlFile.parse(read_text(path))
    leaves = _single_line_leaves(file)
    leaf = data.draw(st.sampled_from(leaves), label="leaf")
    file.set(leaf, new)
    saved = _yaml((2, 4, 2)).load(file.text())
    # The file reads exactly as ruamel's own full dump of the edited document (an
    # anchored value changes with its aliases and merge keys there too).
    assert plain(saved) == plain(_yaml((2, 4, 2)).load(file._render()))
    assert plain(saved)[leaf[0]] is not None
    assert str(YamlFile.parse(file.text()).get(leaf)) == new


def _diff(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def test_removing_the_last_item_keeps_the_blank_line_and_comment_after_the_list() -> None:
    text = "a:\n  - x: 1   # first\n  - y: 2   # second\n\n# about b\nb: 1\n"
    file = YamlFile.parse(text)
    file.remove(("a", 1))
    assert file.text() == "a:\n  - x: 1   # first\n\n# about b\nb: 1\n"


def test_flow_spacing_outside_the_edit_is_kept() -> None:
    text = read_text(Path(__file__).parent / "corpus" / "flow_spacing.yaml")
    file = YamlFile.parse(text)
    file.set(("after",), 2)
    assert _diff(text, file.text()) == ["-after: 1", "+after: 2"]


def test_windows_line_endings_stay() -> None:
    text = read_text(Path(__file__).parent / "corpus" / "crlf.yaml")
    file = YamlFile.parse(text)
    file.insert(("list",), 2, "three")
    assert file.text() == text + "  - three\r\n"


def test_a_new_string_keeps_the_quotes_of_the_one_it_replaces() -> None:
    file = YamlFile.parse("a: 'x'\nb: \"y\"\nc: z\n")
    file.set(("a",), "one")
    file.set(("b",), "two")
    file.set(("c",), "three")
    assert file.text() == "a: 'one'\nb: \"two\"\nc: three\n"
