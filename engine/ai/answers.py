"""AI answers as JSON for the database (ai_results) and back."""

from __future__ import annotations

from typing import Any

from engine.core.ai import Classification, ExtractedField, Extraction, FieldKind, Source


def plain_json(value: Any) -> Any:
    """Dataclass dicts as JSON: enums by value, the rest as they are."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value


def source_from_json(data: dict[str, Any]) -> Source:
    return Source(
        str(data.get("provider") or "offline"), data.get("model"), data.get("fallback_reason")
    )


def classification_from_json(data: dict[str, Any]) -> Classification:
    return Classification(
        data.get("intent"),
        float(data.get("confidence") or 0),
        source_from_json(data.get("source") or {}),
        tuple(data.get("evidence") or ()),
        data.get("language"),
    )


def extraction_from_json(data: dict[str, Any]) -> Extraction:
    fields = tuple(
        ExtractedField(
            FieldKind(item["kind"]),
            str(item["value"]),
            str(item["text"]),
            float(item["confidence"]),
            item.get("quantity"),
        )
        for item in data.get("fields") or ()
        if isinstance(item, dict) and item.get("kind") in FieldKind.__members__.values()
    )
    return Extraction(
        fields, float(data.get("confidence") or 0), source_from_json(data.get("source") or {})
    )
