"""`{contact.name}` placeholders inside the texts of notes, tasks, notifications and replies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dsl.diagnostics import Diagnostic
from dsl.rules import ast
from dsl.rules.parser import parse_expression

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Piece:
    literal: str | None
    expr: ast.Expr | None


@lru_cache(maxsize=4096)
def pieces(text: ast.Name) -> tuple[tuple[Piece, ...], tuple[Diagnostic, ...]]:
    """Split `"Call {contact.name} today"` into literal text and parsed expressions."""
    out: list[Piece] = []
    diagnostics: list[Diagnostic] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text.value):
        if match.start() > position:
            out.append(Piece(text.value[position : match.start()], None))
        column = text.span.column + 1 + match.start(1)
        expr, errors = parse_expression(match.group(1), text.span.file, text.span.line, column)
        diagnostics += errors
        out.append(Piece(None, expr))
        position = match.end()
    if position < len(text.value):
        out.append(Piece(text.value[position:], None))
    return tuple(out), tuple(diagnostics)
