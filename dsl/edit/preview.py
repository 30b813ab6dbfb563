"""Every save is compiled first: the draft is written to a copy of the folder and
compiled there; a refused draft returns its diagnostics per file, line and column; an
accepted one returns the text diff of each file and the scenario tests before and after.
Nothing here writes to the workspace folder itself."""

from __future__ import annotations

import difflib
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from dsl.diagnostics import Diagnostic, Span, has_errors
from dsl.edit.folder import FileChange
from dsl.scenarios import ScenarioResult, run_folder
from dsl.workspace import compile_workspace
from engine.core.capabilities import Capabilities


@dataclass(frozen=True)
class ScenarioChange:
    """One scenario of the workspace's tests, run under the config in force and the draft."""

    file: str
    name: str
    before: bool | None  # None: the scenario is new, or the folder did not compile before
    after: bool
    failures: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Preview:
    changes: list[FileChange]
    diagnostics: list[Diagnostic]  # spans name files inside the folder, as "pipelines.yaml"
    scenarios: list[ScenarioChange]
    version: str | None  # the compiled config's version; None when refused

    @property
    def ok(self) -> bool:
        return self.version is not None and not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def errors_in(self, name: str) -> list[Diagnostic]:
        return [d for d in self.errors if d.span.file == name]

    def diff(self, change: FileChange) -> str:
        return "".join(
            difflib.unified_diff(
                (change.before or "").splitlines(keepends=True),
                change.after.splitlines(keepends=True),
                f"a/{change.name}",
                f"b/{change.name}",
            )
        )


def _relative(diagnostic: Diagnostic, root: Path) -> Diagnostic:
    span = diagnostic.span
    try:
        name = Path(span.file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return diagnostic
    return replace(
        diagnostic, span=Span(name, span.line, span.column, span.end_line, span.end_column)
    )


def _scenario_key(result: ScenarioResult, root: Path) -> tuple[str, str]:
    try:
        name = Path(result.file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        name = result.file
    return name, result.name


def write_copy(folder: Path, changes: list[FileChange], into: Path) -> Path:
    """A copy of `folder` with the changes written in; its git directory is left out."""
    copy = into / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".git"))
    for change in changes:
        target = copy / change.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.after.encode("utf-8"))
    return copy


def check(
    folder: Path, changes: list[FileChange], *, capabilities: Capabilities
) -> list[Diagnostic]:
    """Only the compiler's diagnostics for the folder with `changes` (no scenarios): quick
    enough to run as a manager types."""
    with tempfile.TemporaryDirectory(prefix="kazi-builder-") as scratch:
        copy = write_copy(folder, changes, Path(scratch))
        result = compile_workspace(copy, capabilities=capabilities)
        return [_relative(d, copy) for d in result.diagnostics]


def preview(folder: Path, changes: list[FileChange], *, capabilities: Capabilities) -> Preview:
    """Compile the folder with `changes` applied, without touching the folder."""
    with tempfile.TemporaryDirectory(prefix="kazi-builder-") as scratch:
        copy = write_copy(folder, changes, Path(scratch))
        result = compile_workspace(copy, capabilities=capabilities)
        diagnostics = [_relative(d, copy) for d in result.diagnostics]
        if not result.ok or result.graph is None:
            return Preview(changes, diagnostics, [], None)
        after = {_scenario_key(r, copy): r for r in run_folder(result.graph, copy)}
    current = compile_workspace(folder, capabilities=capabilities)
    before: dict[tuple[str, str], ScenarioResult] = {}
    if current.ok and current.graph is not None:
        before = {_scenario_key(r, folder): r for r in run_folder(current.graph, folder)}
    scenarios = [
        ScenarioChange(
            file,
            name,
            before[(file, name)].passed if (file, name) in before else None,
            result.passed,
            result.failures,
        )
        for (file, name), result in after.items()
    ]
    return Preview(changes, diagnostics, scenarios, result.version)
