"""Property tests: the loader returns diagnostics, never an exception, whatever the files hold."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.config import load_config
from dsl.config.codes import CATALOG
from dsl.config.schema_check import SCHEMA_OF_FILE

HERE = Path(__file__).parent
FILES = sorted(SCHEMA_OF_FILE)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["sales", "inquiry", "env:X", "30m", "{{1}}", "08:00-17:00", "closed"]),
)
keys = st.one_of(
    st.sampled_from(
        ["name", "slug", "timezone", "teams", "teammates", "pipelines", "stages", "moves",
         "rules", "policies", "templates", "integrations", "kind", "variables", "body"]
    ),
    st.text(max_size=10),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


def _check(folder: Path) -> None:
    config, diagnostics = load_config(folder)
    assert all(d.code in CATALOG for d in diagnostics)
    assert (config is None) == any(d.is_error for d in diagnostics)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), text=st.text(max_size=300))
def test_arbitrary_text_never_raises(file: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(HERE / "minimal", folder, dirs_exist_ok=True)
        (folder / file).write_text(text, encoding="utf-8")
        _check(folder)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), data=documents)
def test_arbitrary_yaml_structures_never_raise(file: str, data: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(HERE / "minimal", folder, dirs_exist_ok=True)
        (folder / file).write_text(yaml.safe_dump(data), encoding="utf-8")
        _check(folder)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), line=st.integers(min_value=0, max_value=40), data=st.data())
def test_a_mangled_line_never_raises(file: str, line: int, data: st.DataObject) -> None:
    """Real configs with one line replaced: the likeliest kind of broken input."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(HERE / "minimal", folder, dirs_exist_ok=True)
        lines = (folder / file).read_text(encoding="utf-8").splitlines()
        index = line % len(lines)
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        replacement = data.draw(
            st.one_of(
                st.text(max_size=30),
                st.builds(lambda k, v: f"{k}: {v}", keys, st.text(max_size=15)),
            )
        )
        lines[index] = indent + replacement
        (folder / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
        _check(folder)


def test_recursive_alias_is_a_diagnostic(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "routing.yaml").write_text("rules: &a [*a]\n", encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert config is None
    assert "E004" in [d.code for d in diagnostics]


def test_alias_bomb_is_a_diagnostic(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    (tmp_path / "sla.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert config is None
    assert "E004" in [d.code for d in diagnostics]


def test_not_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "templates.yaml").write_bytes(b"templates: [\xff\xfe]\n")
    config, diagnostics = load_config(tmp_path)
    assert config is None
    assert [d.code for d in diagnostics] == ["E005"]


def test_yaml_1_1_surprises_are_read_as_text(tmp_path: Path) -> None:
    """18:30 is not the base-60 number 1110, and 'no' is not false."""
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    workspace = (tmp_path / "workspace.yaml").read_text(encoding="utf-8")
    workspace = workspace.replace('monday: "08:00-17:00"', "monday: 08:00-18:30")
    workspace = workspace.replace("role: agent", "role: agent\n    languages: [no, sw]")
    (tmp_path / "workspace.yaml").write_text(workspace, encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert [d.headline() for d in diagnostics] == []
    assert config is not None
    baraka = config.teammate("baraka")
    assert baraka is not None and baraka.languages == ("no", "sw")


def test_unknown_yaml_file_is_a_warning(tmp_path: Path) -> None:
    shutil.copytree(HERE / "minimal", tmp_path, dirs_exist_ok=True)
    (tmp_path / "routes.yaml").write_text("rules: []\n", encoding="utf-8")
    config, diagnostics = load_config(tmp_path)
    assert config is not None
    assert [(d.code, d.suggestion) for d in diagnostics] == [
        ("W001", "did you mean 'routing.yaml'?")
    ]
