"""One workspace folder -> its checked config, every diagnostic, and the compiled rule graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsl.config import load_config
from dsl.diagnostics import Diagnostic, Severity, Span, has_errors, sort_diagnostics
from dsl.rules import build_graph, parse_rules
from engine.core.capabilities import Capabilities
from engine.core.config import WorkspaceConfig
from engine.core.rules import RuleGraph


@dataclass(frozen=True)
class CompileResult:
    graph: RuleGraph | None
    config: WorkspaceConfig | None
    diagnostics: list[Diagnostic]
    rule_sources: dict[str, str] = field(default_factory=dict)  # rules file path -> text

    @property
    def version(self) -> str | None:
        """The config version: the graph's content hash, when the folder compiled."""
        return self.graph.version if self.graph is not None else None

    @property
    def ok(self) -> bool:
        return self.graph is not None and not has_errors(self.diagnostics)


def read_rule_sources(folder: Path) -> tuple[dict[str, str], list[Diagnostic]]:
    """The text of every `rules/*.kazi` file, keyed by its path as diagnostics show it."""
    sources: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for path in sorted((folder / "rules").glob("*.kazi")):
        try:
            sources[str(path)] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(
                Diagnostic(
                    "E101",
                    Severity.ERROR,
                    f"cannot read rules file: {error}",
                    Span(str(path), 1, 1),
                )
            )
    return sources, problems


def compile_workspace(folder: Path, *, capabilities: Capabilities) -> CompileResult:
    """Load the YAML, parse and check the rules, compile. Never raises on bad file contents.

    The graph is None when any diagnostic is an error: a config is refused as a whole.
    `capabilities` is what this installation can carry out: an action beyond it is an error.
    """
    config, diagnostics = load_config(folder)
    sources, problems = read_rule_sources(folder)
    diagnostics = [*diagnostics, *problems]
    if config is None:
        # The rules cannot be checked against a config that did not load; syntax still can.
        for path, text in sources.items():
            diagnostics += parse_rules(text, path)[1]
        return CompileResult(None, None, sort_diagnostics(diagnostics), sources)
    graph, rule_diagnostics = build_graph(config, sources, capabilities=capabilities)
    diagnostics = sort_diagnostics([*diagnostics, *rule_diagnostics])
    if has_errors(diagnostics):
        graph = None
    return CompileResult(graph, config, diagnostics, sources)
