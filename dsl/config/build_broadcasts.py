"""broadcasts.yaml → named segments and the limits broadcasts keep to.

Segment names are unique; a segment's stage must be a stage of a conversation pipeline
and its fields contact fields of workspace.yaml, each refused at its line otherwise."""

from __future__ import annotations

from typing import Any

from dsl.config import codes
from dsl.config.durations import parse_duration
from dsl.config.report import Report
from dsl.config.suggest import did_you_mean
from dsl.config.yaml_source import YamlDocument
from engine.core.config import BroadcastSegment, BroadcastSettings, CustomField, Pipeline


def build_broadcasts(
    document: YamlDocument,
    pipelines: tuple[Pipeline, ...] | None,
    fields: tuple[CustomField, ...] | None,
) -> tuple[BroadcastSettings, Report]:
    """`pipelines` and `fields` are None when their files did not load (no checks then)."""
    data: dict[str, Any] = document.data or {}  # type: ignore[assignment]
    report = Report()
    stages = (
        sorted({s for p in pipelines if p.subject == "conversation" for s in p.stage_names()})
        if pipelines is not None
        else None
    )
    contact_fields = (
        sorted(f.name for f in fields if f.owner == "contact") if fields is not None else None
    )
    segments: list[BroadcastSegment] = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("segments") or []):
        name = str(item["name"])
        if name in seen:
            report.error(
                codes.DUPLICATE_NAME,
                f"segment '{name}' is declared twice",
                document.value_span(("segments", index, "name")),
                "give each segment its own name",
            )
            continue
        seen.add(name)
        stage = item.get("stage")
        if stage is not None and stages is not None and stage not in stages:
            report.error(
                codes.MOVE_TO_UNKNOWN_STAGE,
                f"segment '{name}' selects stage '{stage}', which no conversation pipeline has",
                document.value_span(("segments", index, "stage")),
                did_you_mean(stage, stages) or f"known stages: {', '.join(stages)}",
            )
        wanted: dict[str, Any] = item.get("fields") or {}
        for key in wanted:
            if contact_fields is not None and key not in contact_fields:
                report.error(
                    codes.UNKNOWN_KEY,
                    f"segment '{name}' selects by field '{key}', which is not a contact "
                    "field of workspace.yaml",
                    document.key_span(("segments", index, "fields", key)),
                    did_you_mean(key, contact_fields)
                    or f"contact fields: {', '.join(contact_fields) or 'none declared'}",
                )
        segments.append(
            BroadcastSegment(
                name=name,
                tags=tuple(str(t) for t in item.get("tags") or ()),
                language=item.get("language"),
                fields=tuple((str(k), _text(v)) for k, v in wanted.items()),
                stage=stage,
                active_days=item.get("active_days"),
                description=item.get("description"),
                span=document.key_span(("segments", index)),
            )
        )
    window = 3 * 24 * 60
    if "reply_window" in data:
        parsed = parse_duration(str(data["reply_window"]))
        if isinstance(parsed, str):
            report.error(
                codes.BAD_DURATION, parsed, document.value_span(("reply_window",)), "e.g. 3d"
            )
        else:
            window = parsed.calendar_minutes
    settings = BroadcastSettings(
        segments=tuple(segments),
        messaging_limit=int(data.get("messaging_limit") or 250),
        reply_window_minutes=window,
    )
    return settings, report


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
