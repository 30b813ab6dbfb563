"""Checked expressions -> Python source.

Only the checked AST reaches this module; user text appears in the output only
through `repr()` of string literals or as indexes into the constants tuple `K`.
Field reads are hoisted into locals once per function, and every read goes
through a coercion that cannot raise, so the generated code never raises on
odd payloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dsl.rules import ast
from dsl.rules.fields import Catalog, FieldInfo, Type

CALENDAR = 0  # K[0] is the workspace's business calendar
EVENT_PAYLOADS = ("message", "payment", "task", "sla")  # roots carried in the event's data

_ORDER_OPS = {"<", "<=", ">", ">="}


@dataclass
class Constants:
    """The `K` tuple the generated module sees: the calendar, compiled patterns."""

    values: list[Any]
    _index: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def pattern(self, source: str, flags: int) -> int:
        key = ("re", source, flags)
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(re.compile(source, flags))
        return self._index[key]


@dataclass
class FunctionBody:
    """One generated function: hoisted reads first, then the code that uses them."""

    catalog: Catalog
    constants: Constants
    direct: bool = False  # bucket functions read (E, S) directly instead of a roots dict R
    lines: list[str] = field(default_factory=list)
    _locals: dict[tuple[str, ...], str] = field(default_factory=dict)
    _temps: int = 0

    def _root(self, root: str) -> str:
        key = ("$root", root)
        if key not in self._locals:
            name = f"r_{root}"
            self._locals[key] = name
            if not self.direct:
                self.lines.append(f"{name} = R.get({root!r}) or _E")
            elif root in ("conversation", "contact"):
                self.lines.append(f"{name} = S.{root}")
                self.lines.append(f"if type({name}) is not dict: {name} = _as_dict({name})")
            elif root == "event":
                self.lines.append(f"{name} = E.data")
                self.lines.append(f"if type({name}) is not dict: {name} = _as_dict({name})")
            elif root in EVENT_PAYLOADS:
                self.lines.append(f"{name} = _part(E.data, {root!r})")
            else:
                self.lines.append(f"{name} = _part(S.objects, {root!r})")
        return self._locals[key]

    def read(self, node: ast.Field) -> str:
        """A local holding the field's value, coerced to its declared type."""
        key = node.parts
        if key in self._locals:
            return self._locals[key]
        root = self._root(node.root)
        name = f"v{len(self._locals)}"
        self._locals[key] = name
        if len(node.parts) == 2:
            raw = f"{root}.get({node.parts[1]!r})"
        else:
            raw = f"_path({root}, {tuple(node.parts[1:])!r})"
        info = self.info(node)
        if info.type is Type.NUMBER:
            self.lines.append(f"{name} = {raw}")
            self.lines.append(f"if type({name}) not in _NUM: {name} = _num({name})")
        elif info.type is Type.DATETIME:
            self.lines.append(f"{name} = _when({raw})")
        else:
            self.lines.append(f"{name} = {raw}")
        return name

    def info(self, node: ast.Field) -> FieldInfo:
        return self.catalog.lookup(node.parts) or FieldInfo(Type.ANY)

    def temp(self) -> str:
        self._temps += 1
        return f"t{self._temps}"

    def type_of(self, expr: ast.Expr) -> Type:
        match expr:
            case ast.Field():
                return self.info(expr).type
            case ast.Text():
                return Type.TEXT
            case ast.Number():
                return Type.NUMBER
            case ast.DurationLit() | ast.TimeSince():
                return Type.DURATION
            case ast.ListLit():
                return Type.LIST
        return Type.BOOL

    # ----- values
    def value(self, expr: ast.Expr) -> str:
        match expr:
            case ast.Field():
                return self.read(expr)
            case ast.Text():
                return repr(expr.value)
            case ast.Number():
                return _number(expr.value)
            case ast.Boolean():
                return repr(expr.value)
            case ast.DurationLit():
                return _number(expr.seconds)
            case ast.ListLit():
                items = "".join(self.value(i) + ", " for i in expr.items)
                return f"({items})"
            case ast.TimeSince():
                return f"_since(now, {self.read(expr.field)})"
        return self.test(expr)

    # ----- tests
    def test(self, expr: ast.Expr) -> str:
        match expr:
            case ast.Field():
                return f"({self.read(expr)} is True)"
            case ast.Boolean():
                return repr(expr.value)
            case ast.Compare():
                return self._compare(expr)
            case ast.In():
                inner = self._membership(expr)
                return f"(not {inner})" if expr.negated else inner
            case ast.Contains():
                subject = self.value(expr.subject)
                needle = self.value(expr.needle)
                return f"_contains({subject}, {needle})"
            case ast.ContainsAny():
                words = "|".join(
                    re.escape(w.value.strip()) for w in expr.words.items if isinstance(w, ast.Text)
                )
                index = self.constants.pattern(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)
                return f"_search({self.value(expr.subject)}, K[{index}])"
            case ast.Matches():
                flags = re.IGNORECASE if expr.ignore_case else 0
                index = self.constants.pattern(expr.pattern, flags)
                return f"_search({self.value(expr.subject)}, K[{index}])"
            case ast.IsEmpty():
                inner = f"_empty({self.value(expr.subject)})"
                return f"(not {inner})" if expr.negated else inner
            case ast.And():
                return "(" + " and ".join(self.test(i) for i in expr.items) + ")"
            case ast.Or():
                return "(" + " or ".join(self.test(i) for i in expr.items) + ")"
            case ast.Not():
                return f"(not {self.test(expr.item)})"
            case ast.BusinessHours():
                inner = f"K[{CALENDAR}].is_open(now)"
                return inner if expr.within else f"(not {inner})"
            case ast.HasTag():
                tags = self.read(ast.Field(("conversation", "tags"), expr.span))
                return f"_contains({tags}, {expr.tag!r})"
            case ast.SinceScheduled():
                return self._since_scheduled(expr)
        return "False"

    def _compare(self, expr: ast.Compare) -> str:
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        left, right = self.value(expr.left), self.value(expr.right)
        if expr.op not in _ORDER_OPS:
            return f"({left} {expr.op} {right})"
        if Type.ANY in (left_type, right_type):
            return f"_compare({left}, {expr.op!r}, {right})"
        guards = []
        if not _is_literal(expr.left):
            if not left.isidentifier():
                name = self.temp()
                left, guards = name, [f"({name} := {left}) is not None"]
            else:
                guards.append(f"{left} is not None")
        if not _is_literal(expr.right):
            if not right.isidentifier():
                name = self.temp()
                guards.append(f"({name} := {right}) is not None")
                right = name
            else:
                guards.append(f"{right} is not None")
        return "(" + " and ".join([*guards, f"{left} {expr.op} {right}"]) + ")"

    def _membership(self, expr: ast.In) -> str:
        value = self.value(expr.value)
        if isinstance(expr.options, ast.ListLit):
            return f"({value} in {self.value(expr.options)})"
        return f"_member({value}, {self.value(expr.options)})"

    def _since_scheduled(self, expr: ast.SinceScheduled) -> str:
        conversation = self._root("conversation")
        if expr.what == "customer_replied":
            return f"_after({conversation}.get('last_inbound_at'), R.get('$since'))"
        if expr.what == "we_replied":
            return f"_after({conversation}.get('last_outbound_at'), R.get('$since'))"
        name = "stage" if expr.what == "stage_changed" else "status"
        return f"({conversation}.get({name!r}) != R.get('${name}'))"


def _is_literal(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Number | ast.DurationLit | ast.Text | ast.Boolean)


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def function(name: str, body: FunctionBody, result: list[str]) -> str:
    """`def name(R, now):` (or `(E, S, now)` when direct) with the hoisted reads, then `result`."""
    lines = [f"def {name}({'E, S' if body.direct else 'R'}, now):"]
    lines += ["    " + line for line in body.lines]
    lines += ["    " + line for line in result]
    return "\n".join(lines) + "\n"
