"""Text -> AST. One cached LALR parser; syntax errors become friendly diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from dsl.diagnostics import Diagnostic, Severity, Span
from dsl.rules import ast

_GRAMMAR_DIR = Path(__file__).parent / "grammar"
_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t"}


@cache
def _parser() -> Lark:
    grammar = "\n".join(
        (_GRAMMAR_DIR / name).read_text(encoding="utf-8")
        for name in ("rules.lark", "expression.lark")
    )
    return Lark(
        grammar,
        start=["rule_file", "expr"],
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def _unquote(token: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


class _Offset:
    """Moves positions of an expression embedded in YAML to where it sits in its file."""

    def __init__(self, file: str, line: int = 1, column: int = 1) -> None:
        self.file, self.line, self.column = file, line, column

    def span(self, line: int, column: int, end_line: int | None, end_column: int | None) -> Span:
        if self.line == 1 and self.column == 1:  # a whole file: positions are already right
            return Span(self.file, line, column, end_line, end_column)

        def place(at_line: int, at_column: int) -> tuple[int, int]:
            if at_line == 1:
                return self.line, at_column + self.column - 1
            return at_line + self.line - 1, at_column

        start = place(line, column)
        if end_line is None or end_column is None:
            return Span(self.file, *start)
        end = place(end_line, end_column)
        return Span(self.file, start[0], start[1], end[0], end[1])


@dataclass(frozen=True)
class _Condition:
    """Marks a rule's `if` part while the rule node is being built."""

    expr: ast.Expr


class _Builder:
    """Builds AST nodes from the parse tree, bottom up, nothing else.

    One method per grammar rule or alias, called with the node's positions and its already
    built children (a plain walk: cheaper than lark's Transformer with meta wrappers).
    """

    def __init__(self, offset: _Offset) -> None:
        self._offset = offset

    def transform(self, tree: Tree[Token]) -> Any:
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        build: Callable[[Meta, list[Any]], Any] = getattr(self, str(tree.data))
        return build(tree.meta, children)

    def _span(self, meta: Meta) -> Span:
        if meta.empty:
            return Span(self._offset.file, self._offset.line, self._offset.column)
        return self._offset.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return self._offset.span(
            token.line or 1, token.column or 1, token.end_line, token.end_column
        )

    def _name(self, token: Token | None) -> ast.Name | None:
        if token is None:
            return None
        return ast.Name(_unquote(str(token)), self._tok(token))

    # ----- expressions
    def field(self, meta: Meta, children: list[Token]) -> ast.Field:
        return ast.Field(tuple(str(c) for c in children), self._span(meta))

    def string(self, meta: Meta, children: list[Token]) -> ast.Text:
        return ast.Text(_unquote(str(children[0])), self._span(meta))

    def number(self, meta: Meta, children: list[Token]) -> ast.Number:
        return ast.Number(float(children[0]), self._span(meta))

    def true(self, meta: Meta, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(True, self._span(meta))

    def false(self, meta: Meta, children: list[Any]) -> ast.Boolean:
        return ast.Boolean(False, self._span(meta))

    def short_duration(self, meta: Meta, children: list[Token]) -> ast.DurationLit:
        text = str(children[0])
        return ast.DurationLit(float(text[:-1]), text[-1], False, self._span(meta))

    def long_duration(self, meta: Meta, children: list[Token]) -> ast.DurationLit:
        unit = _UNITS[str(children[1]).rstrip("s")]
        return ast.DurationLit(float(children[0]), unit, False, self._span(meta))

    def business_duration(self, meta: Meta, children: list[Token]) -> ast.DurationLit:
        unit = _UNITS[str(children[1]).rstrip("s")]
        return ast.DurationLit(float(children[0]), unit, True, self._span(meta))

    def items(self, meta: Meta, children: list[Any]) -> ast.ListLit:
        return ast.ListLit(tuple(c for c in children if c is not None), self._span(meta))

    def compare(self, meta: Meta, children: list[Any]) -> ast.Compare:
        return ast.Compare(str(children[1]), children[0], children[2], self._span(meta))

    def is_(self, meta: Meta, children: list[Any]) -> ast.Compare:
        return ast.Compare("==", children[0], children[1], self._span(meta))

    def is_not(self, meta: Meta, children: list[Any]) -> ast.Compare:
        return ast.Compare("!=", children[0], children[1], self._span(meta))

    def is_empty(self, meta: Meta, children: list[Any]) -> ast.IsEmpty:
        return ast.IsEmpty(children[0], False, self._span(meta))

    def is_not_empty(self, meta: Meta, children: list[Any]) -> ast.IsEmpty:
        return ast.IsEmpty(children[0], True, self._span(meta))

    def in_(self, meta: Meta, children: list[Any]) -> ast.In:
        return ast.In(children[0], children[1], False, self._span(meta))

    def not_in(self, meta: Meta, children: list[Any]) -> ast.In:
        return ast.In(children[0], children[1], True, self._span(meta))

    def contains(self, meta: Meta, children: list[Any]) -> ast.Contains:
        return ast.Contains(children[0], children[1], self._span(meta))

    def contains_any(self, meta: Meta, children: list[Any]) -> ast.ContainsAny:
        return ast.ContainsAny(children[0], children[1], self._span(meta))

    def matches(self, meta: Meta, children: list[Any]) -> ast.Matches:
        literal = str(children[1])
        ignore_case = literal.endswith("i")
        body = literal[1 : -2 if ignore_case else -1].replace("\\/", "/")
        return ast.Matches(children[0], body, ignore_case, self._span(meta))

    def and_expr(self, meta: Meta, children: list[Any]) -> ast.And:
        return ast.And(tuple(children), self._span(meta))

    def or_expr(self, meta: Meta, children: list[Any]) -> ast.Or:
        return ast.Or(tuple(children), self._span(meta))

    def not_(self, meta: Meta, children: list[Any]) -> ast.Not:
        return ast.Not(children[0], self._span(meta))

    def within_hours(self, meta: Meta, children: list[Any]) -> ast.BusinessHours:
        return ast.BusinessHours(True, self._span(meta))

    def outside_hours(self, meta: Meta, children: list[Any]) -> ast.BusinessHours:
        return ast.BusinessHours(False, self._span(meta))

    def time_since(self, meta: Meta, children: list[Any]) -> ast.TimeSince:
        return ast.TimeSince(children[0], self._span(meta))

    def has_tag(self, meta: Meta, children: list[Token]) -> ast.HasTag:
        return ast.HasTag(_unquote(str(children[0])), self._span(meta))

    def customer_replied(self, meta: Meta, children: list[Any]) -> ast.SinceScheduled:
        return ast.SinceScheduled("customer_replied", self._span(meta))

    def we_replied(self, meta: Meta, children: list[Any]) -> ast.SinceScheduled:
        return ast.SinceScheduled("we_replied", self._span(meta))

    def stage_changed(self, meta: Meta, children: list[Any]) -> ast.SinceScheduled:
        return ast.SinceScheduled("stage_changed", self._span(meta))

    def status_changed_guard(self, meta: Meta, children: list[Any]) -> ast.SinceScheduled:
        return ast.SinceScheduled("status_changed", self._span(meta))

    # ----- triggers
    def _trigger(self, kind: str, meta: Meta, subject: Token | None = None) -> ast.Trigger:
        return ast.Trigger(kind, self._name(subject), None, None, None, self._span(meta))

    def message_received(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("message_received", meta)

    def conversation_opened(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("conversation_opened", meta)

    def stage_entered(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("stage_entered", meta, children[0])

    def stage_left(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("stage_left", meta, children[0])

    def status_changed(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("status_changed", meta, children[0])

    def assigned(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("assigned", meta)

    def tag_added(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("tag_added", meta, children[0])

    def task_due(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("task_due", meta)

    def sla_warning(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("sla_warning", meta, children[0])

    def sla_breached(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("sla_breached", meta, children[0])

    def payment_confirmed(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("payment_confirmed", meta)

    def payment_failed(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("payment_failed", meta)

    def integration_event(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return ast.Trigger(
            "integration_event",
            self._name(children[1]),
            self._name(children[0]),
            None,
            None,
            self._span(meta),
        )

    def inquiry_classified(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger("inquiry_classified", meta, children[0])

    def schedule(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return ast.Trigger(
            "schedule", None, None, str(children[0]), str(children[1]), self._span(meta)
        )

    def trigger(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        found: ast.Trigger = children[0]
        return found

    def condition(self, meta: Meta, children: list[Any]) -> _Condition:
        return _Condition(children[0])

    # ----- actions
    def to_owner(self, meta: Meta, children: list[Any]) -> ast.Recipient:
        return ast.Recipient("owner", None, self._span(meta))

    def to_teammate(self, meta: Meta, children: list[Token]) -> ast.Recipient:
        return ast.Recipient("teammate", self._name(children[0]), self._span(meta))

    def to_team(self, meta: Meta, children: list[Token]) -> ast.Recipient:
        return ast.Recipient("team", self._name(children[0]), self._span(meta))

    def assign(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("assign", self._span(meta), recipient=children[0])

    def route(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("route", self._span(meta))

    def move_stage(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "move_stage",
            self._span(meta),
            name=self._name(children[0]),
            extra=self._name(children[1]),
        )

    def add_tag(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("add_tag", self._span(meta), name=self._name(children[0]))

    def remove_tag(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("remove_tag", self._span(meta), name=self._name(children[0]))

    def create_task(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "create_task",
            self._span(meta),
            text=self._name(children[0]),
            recipient=children[1],
            duration=children[2],
        )

    def create_object(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "create_object",
            self._span(meta),
            name=ast.Name(str(children[0]), self._tok(children[0])),
            extra=self._name(children[1]),
        )

    def remind(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "remind",
            self._span(meta),
            recipient=children[0],
            text=self._name(children[1]),
            duration=children[2],
        )

    def send_template(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("send_template", self._span(meta), name=self._name(children[0]))

    def send_text(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("send_text", self._span(meta), text=self._name(children[0]))

    def send_buttons(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "send_buttons", self._span(meta), text=self._name(children[0]), choices=children[1]
        )

    def send_list(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "send_list",
            self._span(meta),
            text=self._name(children[0]),
            name=self._name(children[1]),
            sections=tuple(children[2:]),
        )

    def list_section(self, meta: Meta, children: list[Any]) -> ast.ListPart:
        return ast.ListPart(self._name(children[0]), children[1])

    def choices(self, meta: Meta, children: list[Any]) -> tuple[ast.Name, ...]:
        return tuple(n for n in (self._name(c) for c in children) if n is not None)

    def draft_reply(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("draft_reply", self._span(meta), text=self._name(children[0]))

    def notify(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "notify", self._span(meta), recipient=children[0], text=self._name(children[1])
        )

    def add_note(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("add_note", self._span(meta), text=self._name(children[0]))

    def set_field(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action("set_field", self._span(meta), target=children[0], value=children[1])

    def call_integration(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "call_integration",
            self._span(meta),
            name=self._name(children[0]),
            extra=self._name(children[1]),
        )

    def request_payment(self, meta: Meta, children: list[Any]) -> ast.Action:
        return ast.Action(
            "request_payment", self._span(meta), value=children[0], name=self._name(children[1])
        )

    def escalate(self, meta: Meta, children: list[Any]) -> ast.Action:
        reason = self._name(children[1]) if children[1] is not None else None
        return ast.Action("escalate", self._span(meta), recipient=children[0], text=reason)

    # ----- blocks and rules
    def then_block(self, meta: Meta, children: list[Any]) -> ast.Block:
        return ast.Block(None, None, tuple(children), self._span(meta))

    def delay_block(self, meta: Meta, children: list[Any]) -> ast.Block:
        return ast.Block(children[0], children[1], tuple(children[2:]), self._span(meta))

    def rule(self, meta: Meta, children: list[Any]) -> ast.Rule:
        name = self._name(children[0])
        assert name is not None
        trigger = children[1]
        condition = None
        rest = children[2:]
        if rest and isinstance(rest[0], _Condition):
            condition = rest[0].expr
            rest = rest[1:]
        return ast.Rule(name, trigger, condition, tuple(rest), self._span(meta))

    def rule_file(self, meta: Meta, children: list[Any]) -> tuple[ast.Rule, ...]:
        return tuple(children)


def parse_rules(text: str, path: str) -> tuple[ast.RuleFile | None, list[Diagnostic]]:
    """Parse one `.kazi` file. On a syntax error: `None` and one friendly diagnostic."""
    offset = _Offset(path)
    try:
        tree = _parser().parse(text, start="rule_file")
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(error, text, offset, "rule_file")]
    rules = _Builder(offset).transform(tree)
    return ast.RuleFile(path, rules), []


def parse_expression(
    text: str, file: str, line: int = 1, column: int = 1
) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """Parse an expression that sits at `file:line:column` (a YAML value, say)."""
    offset = _Offset(file, line, column)
    try:
        tree = _parser().parse(text, start="expr")
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(error, text, offset, "expr")]
    result: ast.Expr = _Builder(offset).transform(tree)
    return result, []


_TRIGGER_WORDS = (
    "message",
    "conversation",
    "stage",
    "status",
    "assigned",
    "tag",
    "task",
    "sla",
    "payment",
    "integration",
    "every",
)
_ACTION_WORDS = (
    "assign",
    "route",
    "move",
    "tag",
    "untag",
    "create",
    "remind",
    "send",
    "draft",
    "notify",
    "add",
    "set",
    "call",
    "request",
    "escalate",
)
_TRIGGER_HELP = (
    "message received, conversation opened, stage entered, stage left, status changed, "
    "assigned, tag added, task due, sla warning, sla breached, payment confirmed, "
    'payment failed, integration "name" event "name", every <day> at HH:MM'
)


def _readable(terminal: str) -> str:
    try:
        pattern = _parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    names = {
        "STRING": "a quoted name",
        "NAME": "a field such as contact.name",
        "NUMBER": "a number",
        "DURATION": "a duration such as 2h",
        "UNIT": "a unit (minutes, hours, days)",
        "REGEX": "a /pattern/",
        "COMPARE": "a comparison",
        "DAYS": "day, weekday or a weekday name",
        "CLOCK": "a time such as 08:30",
        "$END": "the end of the file",
    }
    if terminal in names:
        return names[terminal]
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return terminal.lower()


def _found(token: Token) -> str:
    if token.type == "$END":
        return "the end of the input"
    return f"'{token}'"


def _syntax_diagnostic(
    error: UnexpectedInput, text: str, offset: _Offset, start: str
) -> Diagnostic:
    line = getattr(error, "line", 1) or 1
    column = getattr(error, "column", 1) or 1
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        if char == '"':
            message = "unterminated string: a quoted name must close on the same line"
        else:
            message = f"unexpected character {char!r}"
        return Diagnostic("E101", Severity.ERROR, message, offset.span(line, column, None, None))
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        if isinstance(error, UnexpectedToken):
            line, column = _end_position(text)
        message = (
            "the file ends inside a rule (is its closing `end` missing?)"
            if start == "rule_file"
            else "the expression is incomplete"
        )
        return Diagnostic("E102", Severity.ERROR, message, offset.span(line, column, None, None))
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = set(error.expected)
    words = {_readable(t).strip("'") for t in expected}
    span = offset.span(line, column, token.end_line, token.end_column)
    if expected == {"WHEN"}:
        message = f"expected 'when' and a trigger after the rule's name, found {_found(token)}"
        suggestion = "for example: when message received"
    elif "MESSAGE" in expected and "ASSIGNED" in expected:
        message = f"unknown trigger {_found(token)}"
        suggestion = f"expected one of: {_TRIGGER_HELP}"
    elif {"SEND", "ASSIGN", "NOTIFY"} <= expected and str(token) not in _ACTION_WORDS:
        message = f"unknown action {_found(token)}"
        suggestion = (
            "expected one of: "
            + ", ".join(_ACTION_WORDS)
            + (", or 'after', 'end'" if "END" in expected else "")
        )
    elif {"THEN", "AFTER"} <= expected and str(token) in _ACTION_WORDS:
        message = f"{_found(token)} starts an action: put 'then' before the rule's actions"
        suggestion = None
    elif expected == {"RULE"}:
        message = f"expected 'rule \"name\"', found {_found(token)}"
        suggestion = None
    else:
        message = f"unexpected {_found(token)}"
        suggestion = "expected " + " or ".join(sorted(words)) if len(words) <= 8 else None
    return Diagnostic("E100", Severity.ERROR, message, span, suggestion)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.splitlines() or [""]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    return len(lines), len(lines[-1]) + 1
