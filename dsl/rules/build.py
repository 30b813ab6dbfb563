"""Parse, check, compile: rule texts + a loaded config -> a RuleGraph or the reasons why not."""

from __future__ import annotations

from dsl.diagnostics import Diagnostic, has_errors, sort_diagnostics
from dsl.rules import ast
from dsl.rules.checker import Embedded, check_rules, template_slot
from dsl.rules.compiler import compile_graph
from dsl.rules.parser import parse_expression, parse_rules
from engine.core.capabilities import Capabilities
from engine.core.config import Expression, WorkspaceConfig
from engine.core.rules import RuleGraph


def _parse_embedded(
    owner: str, name: str, expression: Expression
) -> tuple[Embedded | None, list[Diagnostic]]:
    span = expression.span
    expr, errors = parse_expression(expression.text, span.file, span.line, span.column)
    return (Embedded(owner, name, expr) if expr is not None else None), errors


def embedded_expressions(config: WorkspaceConfig) -> tuple[list[Embedded], list[Diagnostic]]:
    """Routing `when`, SLA `applies_when` and template variable values, parsed."""
    found: list[Embedded] = []
    diagnostics: list[Diagnostic] = []
    items: list[tuple[str, str, Expression]] = []
    items += [("routing", r.name, r.when) for r in config.routing if r.when is not None]
    items += [
        ("sla", p.name, p.applies_when) for p in config.sla_policies if p.applies_when is not None
    ]
    for template in config.templates:
        for variable in template.variables:
            name = template_slot(
                template.name, template.language, variable.component, variable.position
            )
            items.append(("template", name, variable.value))
    for owner, name, expression in items:
        item, errors = _parse_embedded(owner, name, expression)
        diagnostics += errors
        if item is not None:
            found.append(item)
    return found, diagnostics


def build_graph(
    config: WorkspaceConfig, rule_texts: dict[str, str], *, capabilities: Capabilities
) -> tuple[RuleGraph | None, list[Diagnostic]]:
    """Every diagnostic of the rules and embedded expressions; the graph only when none is an error.

    `rule_texts` maps each rules file's path (as it should appear in diagnostics) to its text;
    `capabilities` says what this installation can carry out (E126 for anything beyond).
    """
    diagnostics: list[Diagnostic] = []
    files: list[ast.RuleFile] = []
    for path in sorted(rule_texts):
        parsed, errors = parse_rules(rule_texts[path], path)
        diagnostics += errors
        if parsed is not None:
            files.append(parsed)
    embedded, errors = embedded_expressions(config)
    diagnostics += errors
    diagnostics += check_rules(config, files, embedded, capabilities)
    diagnostics = sort_diagnostics(diagnostics)
    if has_errors(diagnostics):
        return None, diagnostics
    return compile_graph(config, files, embedded, rule_texts), diagnostics
