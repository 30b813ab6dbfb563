"""Diagnostics: what the loader, checker and compiler report, printed like a compiler."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from engine.core.source import Span

__all__ = ["Diagnostic", "Severity", "Span", "has_errors", "sort_diagnostics"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    suggestion: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def headline(self) -> str:
        where = f"{self.span.file}:{self.span.line}:{self.span.column}"
        text = f"{where}: {self.severity.value}[{self.code}]: {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text

    def render(self, source: str | None = None) -> str:
        """The headline, then the source line and a caret under the spot."""
        text = self.headline()
        if source is None:
            try:
                source = Path(self.span.file).read_text(encoding="utf-8")
            except OSError:
                return text
        lines = source.splitlines()
        if 1 <= self.span.line <= len(lines):
            line = lines[self.span.line - 1]
            width = 1
            if self.span.end_line == self.span.line and self.span.end_column:
                width = max(1, self.span.end_column - self.span.column)
            caret = " " * (self.span.column - 1) + "^" * width
            text += f"\n    {line}\n    {caret}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "suggestion": self.suggestion,
        }


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))
