"""Validate a parsed YAML file against its JSON Schema and point each error at the YAML.

jsonschema reports errors by JSON path; we translate every one into a diagnostic at
the `file:line:column` of the offending value (or of the key, for unknown and missing
keys), in words a consultant understands, with a suggestion where one helps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from dsl.config import codes
from dsl.config.durations import EXAMPLES, parse_duration
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import JsonValue, YamlDocument
from dsl.diagnostics import Diagnostic, Severity, Span

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

# Which schema checks each file of a workspace folder.
SCHEMA_OF_FILE: dict[str, str] = {
    "workspace.yaml": "workspace.schema.json",
    "pipelines.yaml": "pipelines.schema.json",
    "routing.yaml": "routing.schema.json",
    "sla.yaml": "sla.schema.json",
    "templates.yaml": "templates.schema.json",
    "integrations.yaml": "integrations.schema.json",
    "replies.yaml": "replies.schema.json",
    "consent.yaml": "consent.schema.json",
    "broadcasts.yaml": "broadcasts.schema.json",
    "knowledge.yaml": "knowledge.schema.json",
    "ai.yaml": "ai.schema.json",
}


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    """The parsed JSON Schema `schemas/<name>`."""
    with (SCHEMA_DIR / name).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validate_document(document: YamlDocument, schema_name: str) -> list[Diagnostic]:
    """Every schema error of the document, as positioned diagnostics."""
    translator = _Translator(document)
    for error in _validator(schema_name).iter_errors(document.data):
        translator.translate(error)
    return translator.diagnostics


def render_path(path: tuple[str | int, ...]) -> str:
    """teammates[1].capacity: the JSON path as people write it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the file"


def _describe(value: JsonValue) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{_short(value)}'"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _allowed_keys(schema: Mapping[str, Any], instance: Any) -> set[str]:
    """The property names a schema evaluates for this instance (following allOf/if/then)."""
    keys = set(schema.get("properties", {}))
    for branch in schema.get("allOf", []):
        keys |= _allowed_keys(branch, instance)
    if "if" in schema:
        chosen = "then" if Draft202012Validator(schema["if"]).is_valid(instance) else "else"
        if chosen in schema:
            keys |= _allowed_keys(schema[chosen], instance)
    return keys


class _Translator:
    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple[tuple[str | int, ...], str, int]] = set()

    def add(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, suggestion))

    def translate(self, error: ValidationError) -> None:
        path = tuple(error.absolute_path)
        validator = str(error.validator)
        once = (path, validator, id(error.schema))
        if once in self._seen:
            return
        self._seen.add(once)
        handler = getattr(self, f"_on_{validator}", None)
        if handler is not None:
            handler(error, path)
        else:
            self.add(
                codes.OUT_OF_RANGE,
                f"{render_path(path)}: {error.message}",
                self.document.value_span(path),
            )

    # -- keys ---------------------------------------------------------------

    def _on_additionalProperties(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self._unknown_keys(error, path)

    def _on_unevaluatedProperties(
        self, error: ValidationError, path: tuple[str | int, ...]
    ) -> None:
        self._unknown_keys(error, path)

    def _unknown_keys(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        instance = error.instance
        if not isinstance(instance, dict):
            return
        kinds = error.schema.get("properties", {}).get("kind", {}).get("enum")
        if kinds is not None and instance.get("kind") not in kinds:
            # The kind itself is wrong (reported on its own); its settings cannot be judged.
            return
        allowed = _allowed_keys(error.schema, instance)
        patterns = error.schema.get("patternProperties", {})
        for key in instance:
            if key in allowed or any(_matches(p, key) for p in patterns):
                continue
            where = render_path(path)
            kind = instance.get("kind")
            context = f" of a {kind} integration" if isinstance(kind, str) else ""
            suggestion = did_you_mean(key, allowed) or f"allowed here: {known_list(allowed, 12)}"
            self.add(
                codes.UNKNOWN_KEY,
                f"unknown key '{_short(key)}' in {where}{context}",
                self.document.key_span((*path, key)),
                suggestion,
            )

    def _on_required(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        instance = error.instance
        if not isinstance(instance, dict):
            return
        unknown = [k for k in instance if k not in _allowed_keys(error.schema, instance)]
        for key in error.validator_value:
            if key in instance:
                continue
            if any(did_you_mean(u, [key]) for u in unknown):
                continue  # already reported as a misspelt key, with this name suggested
            span = self.document.key_span(path) if path else Span(self.document.file, 1, 1)
            description = _property_description(error.schema, key)
            self.add(
                codes.MISSING_KEY,
                f"{render_path(path)} is missing the required key '{key}'",
                span,
                f"add '{key}:'" + (f" — {description}" if description else ""),
            )

    # -- values -------------------------------------------------------------

    def _on_type(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        if error.schema.get("title") == "duration":
            self._bad_duration(error, path)
            return
        if not path and error.instance is None:
            self.add(
                codes.WRONG_TYPE,
                "the file is empty",
                self.document.value_span(path),
                "see docs/config-files.md for what it holds",
            )
            return
        expected = error.validator_value
        wanted = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        instance = error.instance
        suggestion = None
        if "string" in wanted and isinstance(instance, int | float | bool):
            suggestion = "put the value in quotes to keep it as text"
        elif instance is None:
            suggestion = "write a value after the colon"
        self.add(
            codes.WRONG_TYPE,
            f"{render_path(path)} should be {words}, not {_describe(instance)}",
            self.document.value_span(path),
            suggestion,
        )

    def _on_enum(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        allowed = [str(v) for v in error.validator_value]
        value = error.instance
        code = codes.NOT_ALLOWED_VALUE
        if error.schema.get("title") == "integration kind":
            code = codes.UNKNOWN_INTEGRATION_KIND
        suggestion = did_you_mean(value, allowed) if isinstance(value, str) else None
        self.add(
            code,
            f"{render_path(path)}: {_describe(value)} is not allowed here; "
            f"use one of {', '.join(allowed)}",
            self.document.value_span(path),
            suggestion,
        )

    def _on_const(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self.add(
            codes.NOT_ALLOWED_VALUE,
            f"{render_path(path)} must be {error.validator_value!r}",
            self.document.value_span(path),
        )

    def _on_pattern(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self._malformed(error, path)

    def _on_format(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self._malformed(error, path)

    def _malformed(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        schema = error.schema
        title = schema.get("title", "value")
        value = error.instance
        is_key = "propertyNames" in error.relative_schema_path
        span = (
            self.document.key_span((*path, value))
            if is_key and isinstance(value, str)
            else self.document.value_span(path)
        )
        if title == "duration":
            self._bad_duration(error, path)
            return
        if title == "secret":
            self.add(
                codes.LITERAL_SECRET,
                f"{render_path(path)}: secrets are environment variable references, never values",
                span,
                "write env:NAME and set NAME in the server's environment",
            )
            return
        examples = schema.get("examples")
        hint = schema.get("description", "")
        if examples:
            hint = (hint + " " if hint else "") + f"For example: {examples[0]}"
        where = render_path(path)
        what = f"key '{_short(str(value))}'" if is_key else _describe(value)
        self.add(
            codes.MALFORMED_VALUE,
            f"{where}: {what} is not a valid {title}",
            span,
            hint or None,
        )

    def _bad_duration(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        value = error.instance
        if isinstance(value, int | float) and not isinstance(value, bool):
            problem = f"{value} has no unit"
        elif isinstance(value, str):
            parsed = parse_duration(value)
            lower_case = f"'{value}': write the unit in lower case"
            problem = parsed if isinstance(parsed, str) else lower_case
        else:
            problem = f"a duration is text, not {_describe(value)}"
        self.add(
            codes.BAD_DURATION,
            f"{render_path(path)}: {problem}",
            self.document.value_span(path),
            f"write e.g. {EXAMPLES}",
        )

    def _on_minLength(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        span = self.document.value_span(path)
        if error.validator_value == 1:
            self.add(codes.OUT_OF_RANGE, f"{render_path(path)} must not be empty", span)
            return
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} is too short: at least {error.validator_value} characters",
            span,
        )

    def _on_maxLength(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        length = len(error.instance) if isinstance(error.instance, str) else 0
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} is {length} characters long; "
            f"the most allowed is {error.validator_value}",
            self.document.value_span(path),
        )

    def _on_minItems(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} needs at least {error.validator_value} item(s)",
            self.document.value_span(path),
        )

    def _on_maxItems(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        count = len(error.instance) if isinstance(error.instance, list) else 0
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} has {count} items; the most allowed is {error.validator_value}",
            self.document.value_span(path),
        )

    def _on_uniqueItems(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        items = error.instance if isinstance(error.instance, list) else []
        seen: set[str] = set()
        for index, item in enumerate(items):
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                self.add(
                    codes.OUT_OF_RANGE,
                    f"{render_path(path)} lists {_describe(item)} twice",
                    self.document.value_span((*path, index)),
                    "remove the repeat",
                )
                return
            seen.add(key)

    def _on_minimum(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} must be at least {error.validator_value}",
            self.document.value_span(path),
        )

    def _on_maximum(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self.add(
            codes.OUT_OF_RANGE,
            f"{render_path(path)} must be at most {error.validator_value}",
            self.document.value_span(path),
        )

    def _on_anyOf(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self._best_of(error)

    def _on_oneOf(self, error: ValidationError, path: tuple[str | int, ...]) -> None:
        self._best_of(error)

    def _best_of(self, error: ValidationError) -> None:
        best = best_match(error.context or [])
        if best is not None:
            self.translate(best)


def _matches(pattern: str, key: str) -> bool:
    return re.search(pattern, key) is not None


def _property_description(schema: Mapping[str, Any], key: str) -> str | None:
    for candidate in [schema, *schema.get("allOf", [])]:
        props = candidate.get("properties", {})
        if key in props:
            described = props[key].get("description")
            return str(described) if described else None
        then = candidate.get("then", {}).get("properties", {})
        if key in then:
            described = then[key].get("description")
            return str(described) if described else None
    return None
