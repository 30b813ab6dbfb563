"""Rule files are edited as text: a change replaces the spans the parser reported,
and every other character of the file (comments, spacing, rule order) stays as written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from dsl.diagnostics import Span
from dsl.rules import ast, parse_expression, parse_rules


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + column - 1


def replace_spans(text: str, replacements: list[tuple[Span, str]]) -> str:
    """`text` with each single- or multi-line span replaced; spans must not overlap."""
    lines = text.splitlines(keepends=True)
    located = []
    for span, new in replacements:
        start = _offset(lines, span.line, span.column)
        end = _offset(lines, span.end_line or span.line, span.end_column or span.column)
        located.append((start, end, new))
    out = text
    for start, end, new in sorted(located, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _quoted(original: str, value: str) -> str:
    quote = "'" if original.startswith("'") else '"'
    return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _nodes(node: Any) -> Iterator[Any]:
    if isinstance(node, tuple):
        for item in node:
            yield from _nodes(item)
    elif is_dataclass(node):
        yield node
        for each in fields(node):
            yield from _nodes(getattr(node, each.name))


def _is_stage(expr: Any) -> bool:
    return isinstance(expr, ast.Field) and len(expr.parts) == 2 and expr.parts[1] == "stage"


def _expression_mentions(node: Any, stage: str) -> list[Span]:
    found: list[Span] = []
    for each in _nodes(node):
        if isinstance(each, ast.Compare):
            for one, other in ((each.left, each.right), (each.right, each.left)):
                if _is_stage(one) and isinstance(other, ast.Text) and other.value == stage:
                    found.append(other.span)
        elif (
            isinstance(each, ast.In)
            and _is_stage(each.value)
            and isinstance(each.options, ast.ListLit)
        ):
            found.extend(
                item.span
                for item in each.options.items
                if isinstance(item, ast.Text) and item.value == stage
            )
    return found


def rename_stage_in_expression(text: str, old: str, new: str) -> str:
    """A YAML-embedded condition (`applies_when`, a routing `when`) with stage `old`
    renamed `new`; unchanged when it does not parse (the compiler reports it)."""
    parsed, _ = parse_expression(text, "(expression)")
    if parsed is None:
        return text
    spans = sorted(set(_expression_mentions(parsed, old)))
    return replace_spans(text, [(span, _quoted(_slice(text, span), new)) for span in spans])


def stage_mentions(rules: ast.RuleFile, stage: str) -> list[Span]:
    """Where a rule file names `stage`: stage triggers, moves, and stage comparisons."""
    found: list[Span] = []
    for rule in rules.rules:
        subject = rule.trigger.subject
        is_stage_trigger = rule.trigger.kind in ("stage_entered", "stage_left")
        if is_stage_trigger and subject is not None and subject.value == stage:
            found.append(subject.span)
        for node in _nodes(rule):
            is_move = isinstance(node, ast.Action) and node.kind == "move_stage"
            if is_move and node.name is not None and node.name.value == stage:
                found.append(node.name.span)
        found.extend(_expression_mentions(rule, stage))
    return sorted(set(found))


def rename_stage_in_rules(text: str, path: str, old: str, new: str) -> str:
    """The rule file with every mention of stage `old` renamed `new`.

    A file that does not parse is returned unchanged: the compile step reports it.
    """
    parsed, _ = parse_rules(text, path)
    if parsed is None:
        return text
    spans = stage_mentions(parsed, old)
    return replace_spans(text, [(span, _quoted(_slice(text, span), new)) for span in spans])


def _slice(text: str, span: Span) -> str:
    lines = text.splitlines(keepends=True)
    start = _offset(lines, span.line, span.column)
    end = _offset(lines, span.end_line or span.line, span.end_column or span.column)
    return text[start:end]
