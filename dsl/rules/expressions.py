"""The expression checker: names exist, types fit, guards appear only where they mean something."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsl.diagnostics import Diagnostic, Severity, Span
from dsl.rules import ast
from dsl.rules.fields import Catalog, FieldInfo, Type
from dsl.rules.names import suggest
from engine.core.config import WorkspaceConfig

_ORDERED = (Type.NUMBER, Type.DATETIME, Type.DURATION)


@dataclass
class Scope:
    """What an expression may see where it sits."""

    catalog: Catalog
    config: WorkspaceConfig | None
    roots: frozenset[str]
    where: str  # for messages: "a 'stage entered' rule", "routing rule 'vip'"
    guards: bool = False  # `customer replied` and friends: delay guards only
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, suggestion))


def known_names(config: WorkspaceConfig | None, kind: str) -> tuple[str, ...]:
    if config is None:
        return ()
    if kind == "stage":
        return tuple(s.name for p in config.pipelines for s in p.stages)
    if kind == "pipeline":
        return tuple(p.name for p in config.pipelines)
    if kind == "team":
        return tuple(t.name for t in config.teams)
    if kind == "teammate":
        return tuple(t.handle for t in config.teammates)
    return ()


_UNKNOWN_CODES = {"stage": "E104", "team": "E106", "teammate": "E107", "pipeline": "E115"}


def check_reference(scope: Scope, kind: str, name: str, span: Span) -> bool:
    """An E104/E106/E107/E115 error when `name` is not a known stage/team/teammate/pipeline."""
    if scope.config is None:
        return True
    known = known_names(scope.config, kind)
    if name in known:
        return True
    scope.error(_UNKNOWN_CODES[kind], f"unknown {kind} '{name}'", span, suggest(name, known))
    return False


def field_info(scope: Scope, node: ast.Field) -> FieldInfo | None:
    root = node.root
    catalog = scope.catalog
    if root not in catalog.roots and root != "event":
        roots = [*catalog.roots, "event"]
        scope.error("E108", f"unknown field '{node.dotted}'", node.span, suggest(root, roots))
        return None
    if root not in scope.roots and root not in catalog.object_kinds:
        scope.error(
            "E117",
            f"'{node.dotted}' is not available in {scope.where}",
            node.span,
            _root_hint(root),
        )
        return None
    if len(node.parts) < 2:
        scope.error(
            "E108", f"'{root}' needs a field, such as {root}.{_first(catalog, root)}", node.span
        )
        return None
    info = catalog.lookup(node.parts)
    if info is None:
        fields = catalog.roots.get(root, {})
        hint = suggest(node.parts[1], fields) if len(node.parts) == 2 else None
        if hint is not None:
            hint = hint.replace("'", f"'{root}.", 1)
        scope.error("E108", f"unknown field '{node.dotted}'", node.span, hint)
        return None
    return info


def _first(catalog: Catalog, root: str) -> str:
    return next(iter(catalog.roots.get(root, {"name": None})))


def _root_hint(root: str) -> str:
    sources = {
        "message": "only 'message received' rules have a message",
        "payment": "only 'payment confirmed' and 'payment failed' rules have a payment",
        "task": "only 'task due' rules have a task",
        "sla": "only 'sla warning' and 'sla breached' rules have an SLA",
        "event": "only integration event rules have event fields",
    }
    return sources.get(root, "")


def check_condition(expr: ast.Expr, scope: Scope) -> None:
    """Check an expression that must be true or false."""
    kind = infer(expr, scope)
    if kind not in (Type.BOOL, Type.ANY, None):
        scope.error("E110", f"a condition must be true or false, this is {kind.value}", expr.span)


def infer(expr: ast.Expr, scope: Scope) -> Type | None:
    """The type of `expr`, reporting what is wrong inside it. None when it cannot be known."""
    match expr:
        case ast.Field():
            info = field_info(scope, expr)
            return info.type if info else None
        case ast.Text():
            return Type.TEXT
        case ast.Number():
            return Type.NUMBER
        case ast.Boolean():
            return Type.BOOL
        case ast.DurationLit():
            if expr.amount <= 0:
                scope.error("E103", "a duration must be longer than zero", expr.span)
            if expr.business:
                scope.error(
                    "E118",
                    "business hours and days count only in delays and due dates",
                    expr.span,
                    "compare with plain hours or days here",
                )
            return Type.DURATION
        case ast.ListLit():
            for item in expr.items:
                infer(item, scope)
            return Type.LIST
        case ast.TimeSince():
            kind = infer(expr.field, scope)
            if kind not in (Type.DATETIME, Type.ANY, None):
                scope.error(
                    "E110",
                    f"'time since' needs a date-time, '{expr.field.dotted}' is {kind.value}",
                    expr.field.span,
                )
            return Type.DURATION
        case ast.Compare():
            _check_compare(expr, scope)
            return Type.BOOL
        case ast.In():
            _check_in(expr, scope)
            return Type.BOOL
        case ast.Contains():
            subject = infer(expr.subject, scope)
            needle = infer(expr.needle, scope)
            if subject not in (Type.TEXT, Type.LIST, Type.ANY, None):
                scope.error(
                    "E110",
                    f"'contains' needs text or a list, not {subject.value}",
                    expr.subject.span,
                )
            if needle not in (Type.TEXT, Type.ANY, None):
                scope.error(
                    "E110", f"'contains' looks for text, not {needle.value}", expr.needle.span
                )
            return Type.BOOL
        case ast.ContainsAny():
            subject = infer(expr.subject, scope)
            if subject not in (Type.TEXT, Type.ANY, None):
                scope.error(
                    "E110",
                    f"keywords are looked for in text, not in {subject.value}",
                    expr.subject.span,
                )
            for word in expr.words.items:
                if not isinstance(word, ast.Text) or not word.value.strip():
                    scope.error("E110", "keywords must be quoted, non-empty words", word.span)
            return Type.BOOL
        case ast.Matches():
            subject = infer(expr.subject, scope)
            if subject not in (Type.TEXT, Type.ANY, None):
                scope.error("E110", f"patterns match text, not {subject.value}", expr.subject.span)
            try:
                re.compile(expr.pattern)
            except re.error as error:
                scope.error("E103", f"invalid pattern: {error}", expr.span)
            return Type.BOOL
        case ast.IsEmpty():
            infer(expr.subject, scope)
            return Type.BOOL
        case ast.And() | ast.Or():
            for item in expr.items:
                check_condition(item, scope)
            return Type.BOOL
        case ast.Not():
            check_condition(expr.item, scope)
            return Type.BOOL
        case ast.BusinessHours() | ast.HasTag():
            return Type.BOOL
        case ast.SinceScheduled():
            if not scope.guards:
                words = expr.what.replace("_", " ")
                scope.error(
                    "E119",
                    f"'{words}' only means something in a delay's 'unless' guard",
                    expr.span,
                    "it compares with the moment the delay was scheduled",
                )
            return Type.BOOL
    return None


def _check_compare(expr: ast.Compare, scope: Scope) -> None:
    left = infer(expr.left, scope)
    right = infer(expr.right, scope)
    if left is None or right is None or Type.ANY in (left, right):
        return
    if expr.op in ("==", "!="):
        if left != right:
            scope.error(
                "E110",
                f"cannot compare {left.value} with {right.value}",
                expr.span,
                _hint_for(expr.left, left, expr.right, right),
            )
            return
        _check_values(expr.left, expr.right, scope)
        _check_values(expr.right, expr.left, scope)
        return
    if left != right or left not in _ORDERED:
        scope.error(
            "E110",
            f"cannot use '{expr.op}' between {left.value} and {right.value}",
            expr.span,
            _hint_for(expr.left, left, expr.right, right),
        )


def _hint_for(left: ast.Expr, left_type: Type, right: ast.Expr, right_type: Type) -> str | None:
    if isinstance(left, ast.Field) and left_type is Type.BOOL:
        return f"'{left.dotted}' is true or false: write `{left.dotted}` or `not {left.dotted}`"
    if isinstance(left, ast.Field) and left_type is Type.DATETIME and right_type is Type.DURATION:
        return f"write `time since {left.dotted} > ...`"
    return None


def _check_in(expr: ast.In, scope: Scope) -> None:
    value = infer(expr.value, scope)
    options = infer(expr.options, scope)
    if options not in (Type.LIST, Type.ANY, None):
        scope.error("E110", f"'in' needs a list, not {options.value}", expr.options.span)
        return
    if isinstance(expr.options, ast.ListLit):
        for item in expr.options.items:
            item_type = infer_quiet(item, scope)
            if value not in (None, Type.ANY) and item_type not in (None, Type.ANY, value):
                scope.error(
                    "E110",
                    f"the list holds {item_type.value}, the value is {value.value}",
                    item.span,
                )
            _check_values(expr.value, item, scope)


def infer_quiet(expr: ast.Expr, scope: Scope) -> Type | None:
    """The type without reporting again what `infer` already reported."""
    saved = list(scope.diagnostics)
    kind = infer(expr, scope)
    scope.diagnostics[:] = saved
    return kind


def _check_values(subject: ast.Expr, literal: ast.Expr, scope: Scope) -> None:
    """`conversation.stage is "qoute"`: a literal compared with a named or choice field."""
    if not isinstance(subject, ast.Field) or not isinstance(literal, ast.Text):
        return
    info = scope.catalog.lookup(subject.parts)
    if info is None:
        return
    if info.refers_to is not None:
        check_reference(scope, info.refers_to, literal.value, literal.span)
    elif info.choices and literal.value not in info.choices:
        scope.error(
            "E120",
            f"'{literal.value}' is not a value of {subject.dotted}",
            literal.span,
            suggest(literal.value, info.choices) or "one of: " + ", ".join(info.choices),
        )


def walk(expr: ast.Expr) -> list[ast.Expr]:
    """`expr` and every expression inside it."""
    out = [expr]
    match expr:
        case ast.Compare():
            out += walk(expr.left) + walk(expr.right)
        case ast.In():
            out += walk(expr.value) + walk(expr.options)
        case ast.Contains():
            out += walk(expr.subject) + walk(expr.needle)
        case ast.ContainsAny():
            out += walk(expr.subject) + walk(expr.words)
        case ast.Matches() | ast.IsEmpty():
            out += walk(expr.subject)
        case ast.And() | ast.Or() | ast.ListLit():
            for item in expr.items:
                out += walk(item)
        case ast.Not():
            out += walk(expr.item)
        case ast.TimeSince():
            out += walk(expr.field)
    return out
