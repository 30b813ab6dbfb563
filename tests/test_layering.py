"""The import contracts name every engine module outside engine.core.

import-linter's forbidden contracts list modules by name; without this test a
new engine package would be importable from engine.core, dsl or connectors
without anyone noticing.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def engine_modules() -> set[str]:
    names = set()
    for path in (ROOT / "engine").iterdir():
        if path.name in {"core", "__init__.py", "__pycache__"}:
            continue
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py":
            names.add(f"engine.{path.stem}")
    return names


def test_every_engine_module_is_kept_out_of_core_dsl_and_connectors() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["name"]: c for c in config["contracts"]}
    for name in (
        "engine.core is pure: no other part of Kazi",
        "dsl imports engine.core only",
        "connectors import engine.core only",
    ):
        missing = engine_modules() - set(contracts[name]["forbidden_modules"])
        assert not missing, f"add {sorted(missing)} to the forbidden_modules of {name!r}"


def test_engine_core_uses_the_standard_library_only() -> None:
    """Pure decision code: anything outside Python's own library is I/O or a framework."""
    outside = []
    for path in sorted((ROOT / "engine" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and not name.startswith("engine.core"):
                    outside.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert outside == [], "engine.core must not import: " + ", ".join(outside)
