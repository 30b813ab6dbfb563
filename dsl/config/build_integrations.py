"""integrations.yaml → integrations, with secrets kept as environment variable names."""

from __future__ import annotations

from functools import cache
from typing import Any

from dsl.config import codes
from dsl.config.report import Report
from dsl.config.schema_check import load_schema
from dsl.config.yaml_source import YamlDocument
from engine.core.config import BusinessNumber, Integration

SECRET_REF = "#/$defs/secret"
SECRET_PREFIX = "env:"


@cache
def secret_settings(kind: str) -> frozenset[str]:
    """The settings of an integration kind that hold secrets, as the schema marks them."""
    schema = load_schema("integrations.schema.json")
    names: set[str] = set()
    for branch in schema["$defs"]["integration"].get("allOf", []):
        if branch.get("if", {}).get("properties", {}).get("kind", {}).get("const") != kind:
            continue
        for name, prop in branch.get("then", {}).get("properties", {}).items():
            if prop.get("$ref") == SECRET_REF:
                names.add(name)
    return frozenset(names)


def build_integrations(
    document: YamlDocument, numbers: tuple[BusinessNumber, ...] | None
) -> tuple[tuple[Integration, ...], Report]:
    """Build the integrations; number checks are skipped when `numbers` is None."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    integrations: list[Integration] = []
    first_at: dict[str, int] = {}
    number_ids = {n.phone_number_id for n in numbers} if numbers is not None else None
    for index, item in enumerate(data["integrations"]):
        path = ("integrations", index)
        name, kind = item["name"], item["kind"]
        name_span = document.value_span((*path, "name"))
        if name in first_at:
            report.error(codes.DUPLICATE_NAME, f"integration '{name}' is declared twice", name_span)
            continue
        first_at[name] = index
        secret_keys = secret_settings(kind)
        settings: dict[str, str] = {}
        secrets: dict[str, str] = {}
        secret_spans = {}
        for key, value in item.items():
            if key in ("name", "kind"):
                continue
            if key in secret_keys:
                secrets[key] = str(value)[len(SECRET_PREFIX) :]
                secret_spans[key] = document.where((*path, key)).content
            elif isinstance(value, list):
                settings[key] = ",".join(str(v) for v in value)
            else:
                settings[key] = str(value)
        declared = number_ids is None or item.get("phone_number_id") in number_ids
        if kind == "whatsapp" and not declared:
            report.error(
                codes.UNDECLARED_NUMBER,
                f"integration '{name}' is for phone number id {item['phone_number_id']}, "
                "which workspace.yaml's numbers do not declare",
                document.value_span((*path, "phone_number_id")),
                "add the number to workspace.yaml, or correct the id",
            )
        integrations.append(
            Integration(
                name=name,
                kind=kind,
                settings=settings,
                secrets=secrets,
                span=name_span,
                secret_spans=secret_spans,
            )
        )
    return tuple(integrations), report
