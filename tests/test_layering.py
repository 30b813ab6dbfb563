"""The import contracts name every engine module outside engine.core.

import-linter's forbidden contracts list modules by name; without this test a
new engine package would be importable from engine.core, dsl or connectors
without anyone noticing.
"""

from __future__ import annotations

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
        "engine.core is pure: the standard library only",
        "dsl imports engine.core only",
        "connectors import engine.core only",
    ):
        missing = engine_modules() - set(contracts[name]["forbidden_modules"])
        assert not missing, f"add {sorted(missing)} to the forbidden_modules of {name!r}"
