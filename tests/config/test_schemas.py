"""The JSON Schemas themselves: valid draft 2020-12, strict, and their examples hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dsl.config.codes import CATALOG
from dsl.config.schema_check import SCHEMA_DIR, SCHEMA_OF_FILE, load_schema

OWN_SCHEMAS = sorted(SCHEMA_OF_FILE.values())


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("name", OWN_SCHEMAS)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (SCHEMA_DIR / name).exists()


@pytest.mark.parametrize("name", OWN_SCHEMAS)
def test_every_object_schema_is_closed(name: str) -> None:
    """Strict: an object schema with named properties refuses unknown keys."""
    for node in _objects(load_schema(name)):
        if "properties" in node and node.get("type") == "object":
            closed = node.get("additionalProperties") is False
            closed = closed or node.get("unevaluatedProperties") is False
            assert closed, f"{name}: open object with properties {sorted(node['properties'])}"


@pytest.mark.parametrize("name", OWN_SCHEMAS)
def test_examples_satisfy_their_own_schema(name: str) -> None:
    schema = load_schema(name)
    for node in _objects(schema):
        if "examples" not in node or "$ref" in node:
            continue
        subschema = {**node, "$defs": schema.get("$defs", {})}
        validator = Draft202012Validator(subschema)
        for example in node["examples"]:
            assert validator.is_valid(example), (name, example)


def test_codes_are_in_range_and_unique() -> None:
    for code in CATALOG:
        assert code[0] in "EW" and 1 <= int(code[1:]) <= 99, code
    assert len(CATALOG) == len(set(CATALOG))


def test_docs_list_every_code(repo_root: Path) -> None:
    text = (repo_root / "docs" / "config-files.md").read_text(encoding="utf-8")
    missing = [code for code in CATALOG if f"| {code} |" not in text]
    assert missing == []
