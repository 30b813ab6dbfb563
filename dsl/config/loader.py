"""Load a workspace folder's YAML files into a checked `WorkspaceConfig`.

Steps: read each file keeping positions → validate it against its JSON Schema → build
the typed model file by file → check references between files. Every problem found is
returned; any error means no config (the running config stays in force).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from dsl.config import codes
from dsl.config.build_ai import build_ai, build_knowledge
from dsl.config.build_broadcasts import build_broadcasts
from dsl.config.build_consent import build_consent
from dsl.config.build_integrations import build_integrations
from dsl.config.build_pipelines import build_pipelines
from dsl.config.build_replies import build_replies
from dsl.config.build_routing import build_routing
from dsl.config.build_sla import build_sla
from dsl.config.build_templates import build_templates
from dsl.config.build_workspace import DEFAULT_BUSINESS_DAY_MINUTES, WorkspacePart, build_workspace
from dsl.config.report import Report
from dsl.config.schema_check import SCHEMA_OF_FILE, validate_document
from dsl.config.suggest import did_you_mean
from dsl.config.yaml_source import YamlDocument, parse_yaml
from dsl.diagnostics import Diagnostic, Severity, Span, has_errors, sort_diagnostics
from engine.core.config import (
    AiConfig,
    BroadcastSettings,
    ConsentKeyword,
    Integration,
    Knowledge,
    Pipeline,
    QuickReply,
    RoutingRule,
    SlaPolicy,
    Template,
    WorkspaceConfig,
)

T = TypeVar("T")

REQUIRED_FILES = frozenset({"workspace.yaml"})


def load_config(folder: Path) -> tuple[WorkspaceConfig | None, list[Diagnostic]]:
    """The checked config of `folder` and every diagnostic, sorted by place.

    The config is None when any diagnostic is an error. Diagnostics name files as
    `folder / name`, so a relative folder gives relative paths. Never raises on bad
    file contents.
    """
    diagnostics: list[Diagnostic] = []
    documents: dict[str, YamlDocument] = {}
    for name, schema in SCHEMA_OF_FILE.items():
        document = _read(folder, name, diagnostics)
        if document is None:
            continue
        problems = validate_document(document, schema)
        diagnostics.extend(problems)
        if not any(d.is_error and d.span.file == document.file for d in diagnostics):
            documents[name] = document
    diagnostics.extend(_unknown_files(folder))

    report = Report()
    workspace: WorkspacePart | None = None
    if "workspace.yaml" in documents:
        workspace, built = build_workspace(documents["workspace.yaml"])
        report.diagnostics.extend(built.diagnostics)

    pipelines: tuple[Pipeline, ...] = ()
    if "pipelines.yaml" in documents:
        kinds = workspace.object_kinds if workspace is not None else None
        pipelines, built = build_pipelines(documents["pipelines.yaml"], kinds)
        report.diagnostics.extend(built.diagnostics)
    routing: tuple[RoutingRule, ...] = ()
    if "routing.yaml" in documents:
        routing, built = build_routing(documents["routing.yaml"], workspace)
        report.diagnostics.extend(built.diagnostics)
    sla_policies: tuple[SlaPolicy, ...] = ()
    if "sla.yaml" in documents:
        day = workspace.business_day_minutes if workspace else DEFAULT_BUSINESS_DAY_MINUTES
        has_hours = bool(workspace.opening_hours) if workspace is not None else None
        sla_policies, built = build_sla(documents["sla.yaml"], day, has_hours)
        report.diagnostics.extend(built.diagnostics)
    templates: tuple[Template, ...] = ()
    if "templates.yaml" in documents:
        templates, built = build_templates(documents["templates.yaml"])
        report.diagnostics.extend(built.diagnostics)
    quick_replies: tuple[QuickReply, ...] = ()
    if "replies.yaml" in documents:
        quick_replies, built = build_replies(documents["replies.yaml"])
        report.diagnostics.extend(built.diagnostics)
    consent_keywords: tuple[ConsentKeyword, ...] = ()
    if "consent.yaml" in documents:
        consent_keywords, built = build_consent(documents["consent.yaml"])
        report.diagnostics.extend(built.diagnostics)
    broadcasts = BroadcastSettings()
    if "broadcasts.yaml" in documents:
        broadcasts, built = build_broadcasts(
            documents["broadcasts.yaml"],
            _loaded(folder, "pipelines.yaml", documents, pipelines),
            workspace.fields if workspace is not None else None,
        )
        report.diagnostics.extend(built.diagnostics)
    integrations: tuple[Integration, ...] = ()
    if "integrations.yaml" in documents:
        numbers = workspace.numbers if workspace is not None else None
        integrations, built = build_integrations(documents["integrations.yaml"], numbers)
        report.diagnostics.extend(built.diagnostics)
    knowledge = Knowledge()
    if "knowledge.yaml" in documents:
        knowledge, built = build_knowledge(documents["knowledge.yaml"])
        report.diagnostics.extend(built.diagnostics)
    ai = AiConfig()
    if "ai.yaml" in documents:
        ai, built = build_ai(
            documents["ai.yaml"],
            knowledge=_loaded(folder, "knowledge.yaml", documents, knowledge),
            pipelines=_loaded(folder, "pipelines.yaml", documents, pipelines),
            quick_replies=_loaded(folder, "replies.yaml", documents, quick_replies),
        )
        report.diagnostics.extend(built.diagnostics)
    integrations_readable = (
        "integrations.yaml" in documents or not (folder / "integrations.yaml").exists()
    )
    if workspace is not None and integrations_readable:
        _numbers_without_integration(documents["workspace.yaml"], workspace, integrations, report)
    if workspace is not None and "workspace.yaml" in documents:
        _number_pipelines(documents["workspace.yaml"], workspace, pipelines, report)
    diagnostics.extend(report.diagnostics)

    diagnostics = sort_diagnostics(diagnostics)
    if has_errors(diagnostics) or workspace is None:
        return None, diagnostics
    config = WorkspaceConfig(
        slug=workspace.slug,
        name=workspace.name,
        timezone=workspace.timezone,
        opening_hours=workspace.opening_hours,
        holidays=workspace.holidays,
        numbers=workspace.numbers,
        teammates=workspace.teammates,
        teams=workspace.teams,
        fields=workspace.fields,
        pipelines=pipelines,
        routing=routing,
        sla_policies=sla_policies,
        templates=templates,
        integrations=integrations,
        root=str(folder),
        currency=workspace.currency,
        default_language=workspace.default_language,
        object_kinds=workspace.object_kinds,
        business_day_minutes=workspace.business_day_minutes,
        quick_replies=quick_replies,
        consent_keywords=consent_keywords,
        ai=ai,
        knowledge=knowledge,
        broadcasts=broadcasts,
    )
    return config, diagnostics


def _loaded(folder: Path, name: str, documents: dict[str, YamlDocument], built: T) -> T | None:
    """What `name` declares, or None when it exists but did not load (so checks against it
    would only repeat its own errors)."""
    return built if name in documents or not (folder / name).exists() else None


def _read(folder: Path, name: str, diagnostics: list[Diagnostic]) -> YamlDocument | None:
    path = folder / name
    file = str(path)
    start = Span(file, 1, 1)
    if not path.exists():
        if name in REQUIRED_FILES:
            diagnostics.append(
                Diagnostic(
                    codes.MISSING_FILE,
                    Severity.ERROR,
                    f"{name} is missing from {folder}",
                    start,
                    "every workspace folder needs workspace.yaml with name, slug and timezone",
                )
            )
        return None
    try:
        source = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        diagnostics.append(
            Diagnostic(
                codes.UNREADABLE_FILE,
                Severity.ERROR,
                f"{name} is not UTF-8 text (byte {error.start})",
                start,
                "save the file as UTF-8",
            )
        )
        return None
    except OSError as error:
        diagnostics.append(
            Diagnostic(
                codes.UNREADABLE_FILE,
                Severity.ERROR,
                f"{name} cannot be read: {error.strerror or error}",
                start,
            )
        )
        return None
    document, problems = parse_yaml(file, source)
    diagnostics.extend(problems)
    if document is None:
        return None
    if document.data is None and name not in REQUIRED_FILES:
        return None  # an empty optional file declares nothing
    return document


def _unknown_files(folder: Path) -> list[Diagnostic]:
    """Warn about YAML files Kazi would silently ignore, such as a misspelt routing.yaml."""
    if not folder.is_dir():
        return []
    found: list[Diagnostic] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or path.name in SCHEMA_OF_FILE:
            continue
        stem_match = did_you_mean(path.stem + ".yaml", SCHEMA_OF_FILE)
        found.append(
            Diagnostic(
                codes.UNKNOWN_FILE,
                Severity.WARNING,
                f"{path.name} is not a file Kazi reads; it is ignored",
                Span(str(path), 1, 1),
                stem_match or f"the files are: {', '.join(SCHEMA_OF_FILE)}",
            )
        )
    return found


def _number_pipelines(
    document: YamlDocument,
    workspace: WorkspacePart,
    pipelines: tuple[Pipeline, ...],
    report: Report,
) -> None:
    conversation_pipelines = [p.name for p in pipelines if p.subject == "conversation"]
    for index, number in enumerate(workspace.numbers):
        if number.pipeline is None or number.pipeline in conversation_pipelines:
            continue
        report.error(
            codes.NUMBER_UNKNOWN_PIPELINE,
            f"number '{number.name}' starts conversations in '{number.pipeline}', which is not "
            "a conversation pipeline in pipelines.yaml",
            document.value_span(("numbers", index, "pipeline")),
            did_you_mean(number.pipeline, conversation_pipelines)
            or f"conversation pipelines: {', '.join(conversation_pipelines) or 'none'}",
        )


def _numbers_without_integration(
    document: YamlDocument,
    workspace: WorkspacePart,
    integrations: tuple[Integration, ...],
    report: Report,
) -> None:
    covered = {i.settings.get("phone_number_id") for i in integrations if i.kind == "whatsapp"}
    for index, number in enumerate(workspace.numbers):
        if number.phone_number_id not in covered:
            report.warning(
                codes.NUMBER_WITHOUT_INTEGRATION,
                f"number '{number.name}' has no whatsapp integration, so it can neither "
                "receive nor send",
                document.value_span(("numbers", index, "phone_number_id")),
                "add a whatsapp integration with this phone_number_id to integrations.yaml",
            )
