"""Read one YAML file into plain data plus the position of every key and value.

PyYAML's composer gives a node tree whose every node carries start and end marks;
we turn that tree into JSON-like data ourselves so that each value's path (as
jsonschema reports it) maps back to a `file:line:column`.

Scalars are read with the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: `18:30`
stays the string "18:30" (YAML 1.1 reads it as the base-60 number 1110), `no` stays a
string and dates stay strings. Only null, true/false, integers and floats are typed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dsl.config.codes import (
    DUPLICATE_KEY,
    UNSUPPORTED_YAML,
    YAML_SYNTAX,
)
from dsl.diagnostics import Diagnostic, Severity, Span

Path = tuple[str | int, ...]
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

# A limit on expanded nodes, so alias bombs ("billion laughs") cannot exhaust memory.
MAX_NODES = 100_000

_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(true|True|TRUE)$")
_BOOL_FALSE = re.compile(r"^(false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")


@dataclass(frozen=True)
class Located:
    """Where one value sits: its own span, its key's span (mapping values only), and
    the span of its text content (inside the quotes for a quoted scalar)."""

    value: Span
    key: Span | None
    content: Span
    single_line: bool


@dataclass
class YamlDocument:
    """A parsed file: its data, where each path sits, and its source text."""

    file: str
    source: str
    data: JsonValue
    positions: dict[Path, Located] = field(default_factory=dict)

    def where(self, path: Path) -> Located:
        """The closest known position of `path` (walking up to a parent if needed)."""
        probe = tuple(path)
        while probe:
            found = self.positions.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return self.positions.get((), _start_of(self.file))

    def value_span(self, path: Path) -> Span:
        return self.where(path).value

    def key_span(self, path: Path) -> Span:
        """The span of the key that introduces `path`, or of the value for list items."""
        located = self.where(path)
        return located.key or located.value


def _start_of(file: str) -> Located:
    span = Span(file, 1, 1)
    return Located(value=span, key=None, content=span, single_line=True)


def _span(file: str, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _content_span(file: str, node: Node, lines: list[str]) -> Span:
    span = _span(file, node)
    if isinstance(node, ScalarNode) and node.style in ("'", '"'):
        # Point inside the quotes, where the text itself begins.
        return Span(file, span.line, span.column + 1, span.end_line, (span.end_column or 2) - 1)
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        # A block scalar's text starts on the line after the indicator, indented.
        first = lines[span.line] if span.line < len(lines) else ""
        indent = len(first) - len(first.lstrip(" ")) + 1
        return Span(file, span.line + 1, indent)
    return span


def scalar_value(node: ScalarNode) -> JsonValue:
    """The value of a scalar under the YAML 1.2 core schema."""
    text = node.value
    if node.style is not None:
        return text
    if _NULL.match(text):
        return None
    if _BOOL_TRUE.match(text):
        return True
    if _BOOL_FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text)
    if _INT_OCT.match(text):
        return int(text[2:], 8)
    if _INT_HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


class _Converter:
    """Walks a composed node tree into data, recording positions and problems."""

    def __init__(self, file: str, source: str) -> None:
        self.file = file
        self.lines = source.splitlines()
        self.positions: dict[Path, Located] = {}
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.too_large = False
        self._active: set[int] = set()

    def problem(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, suggestion))

    def record(self, path: Path, node: Node, key: Node | None) -> None:
        self.positions[path] = Located(
            value=_span(self.file, node),
            key=_span(self.file, key) if key is not None else None,
            content=_content_span(self.file, node, self.lines),
            single_line=node.start_mark.line == node.end_mark.line,
        )

    def convert(self, node: Node, path: Path, key: Node | None = None) -> JsonValue:
        self.count += 1
        if self.count > MAX_NODES:
            if not self.too_large:
                self.too_large = True
                self.problem(
                    UNSUPPORTED_YAML,
                    f"the file expands to more than {MAX_NODES} values",
                    _span(self.file, node),
                    "aliases that repeat large parts are not supported; write the values out",
                )
            return None
        self.record(path, node, key)
        if isinstance(node, ScalarNode):
            return scalar_value(node)
        if id(node) in self._active:
            self.problem(
                UNSUPPORTED_YAML,
                "an alias refers to a value that contains itself",
                _span(self.file, node),
            )
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.convert_mapping(node, path)
            return None
        finally:
            self._active.discard(id(node))

    def convert_mapping(self, node: MappingNode, path: Path) -> dict[str, JsonValue]:
        result: dict[str, JsonValue] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    UNSUPPORTED_YAML,
                    "a key must be a plain name, not a list or a mapping",
                    _span(self.file, key_node),
                )
                continue
            key = key_node.value
            if key in result:
                first = self.positions[(*path, key)].key
                where = f" (first at line {first.line})" if first else ""
                self.problem(
                    DUPLICATE_KEY,
                    f"key '{key}' appears twice in the same mapping{where}",
                    _span(self.file, key_node),
                    "keep one; YAML would silently keep only the last",
                )
                continue
            result[key] = self.convert(value_node, (*path, key), key_node)
        return result


def _error_span(file: str, error: yaml.YAMLError, source: str) -> Span:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return Span(file, mark.line + 1, mark.column + 1)
    if isinstance(error, yaml.reader.ReaderError):
        before = source[: error.position]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return Span(file, line, column)
    return Span(file, 1, 1)


def _error_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [p for p in (error.context, error.problem) if p]
        return "YAML syntax: " + ("; ".join(parts) if parts else "malformed YAML")
    if isinstance(error, yaml.reader.ReaderError):
        return f"YAML syntax: character {error.character!r} is not allowed in YAML"
    return f"YAML syntax: {error}"


_HINTS: tuple[tuple[str, str], ...] = (
    ("'\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed", "put text that contains ': ' in quotes"),
    ("expected a single document", "one document per file: remove the '---' separators"),
    (
        "could not find expected ':'",
        "a key needs a colon after it; text with quotes or "
        "special characters needs quoting as a whole",
    ),
    (
        "expected <block end>",
        "check this line's indentation and that quotes opened above are closed",
    ),
    ("found unexpected end of stream", "a quote or bracket opened above is never closed"),
    ("found undefined alias", "an *alias needs an &anchor defined above it"),
    ("found unhashable key", "a key must be a plain name"),
)


def _syntax_hint(message: str) -> str | None:
    return next((hint for needle, hint in _HINTS if needle in message), None)


def parse_yaml(file: str, source: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse YAML text. Returns the document (None on a syntax error) and diagnostics.

    Never raises on any input text.
    """
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        message = _error_message(error)
        span = _error_span(file, error, source)
        return None, [Diagnostic(YAML_SYNTAX, Severity.ERROR, message, span, _syntax_hint(message))]
    except RecursionError:
        return None, [
            Diagnostic(
                UNSUPPORTED_YAML, Severity.ERROR, "the YAML is nested too deeply", Span(file, 1, 1)
            )
        ]
    if root is None:
        return YamlDocument(file=file, source=source, data=None), []
    converter = _Converter(file, source)
    try:
        data = converter.convert(root, ())
    except RecursionError:
        return None, [
            Diagnostic(
                UNSUPPORTED_YAML, Severity.ERROR, "the YAML is nested too deeply", Span(file, 1, 1)
            )
        ]
    document = YamlDocument(file=file, source=source, data=data, positions=converter.positions)
    return document, converter.diagnostics
