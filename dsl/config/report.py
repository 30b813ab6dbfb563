"""A small collector of diagnostics, and helpers to point inside a scalar's text."""

from __future__ import annotations

from dsl.config.yaml_source import Path, YamlDocument
from dsl.diagnostics import Diagnostic, Severity, Span


class Report:
    """Collects the diagnostics of one building step."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, suggestion))

    def warning(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.WARNING, message, span, suggestion))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def locate_in_scalar(document: YamlDocument, path: Path, needle: str, occurrence: int = 0) -> Span:
    """The span of `needle` inside the text of the scalar at `path`.

    Searches the source lines the scalar covers, so it works for plain, quoted and block
    scalars alike; falls back to the scalar's own span when the text is not found as
    written (for example when escapes change it).
    """
    located = document.where(path)
    lines = document.source.splitlines()
    first = located.value.line
    last = located.value.end_line or first
    seen = 0
    for number in range(first, min(last, len(lines)) + 1):
        text = lines[number - 1]
        start = located.value.column - 1 if number == first else 0
        while True:
            index = text.find(needle, start)
            if index < 0:
                break
            if seen == occurrence:
                return Span(document.file, number, index + 1, number, index + 1 + len(needle))
            seen += 1
            start = index + 1
    return located.content
