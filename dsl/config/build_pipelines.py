"""pipelines.yaml → pipelines, with the checks of stages and moves."""

from __future__ import annotations

from collections import deque
from typing import Any

from dsl.config import codes
from dsl.config.report import Report
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import YamlDocument
from engine.core.config import Move, Pipeline, Stage


def build_pipelines(
    document: YamlDocument, object_kinds: tuple[str, ...] | None
) -> tuple[tuple[Pipeline, ...], Report]:
    """Build every pipeline. `object_kinds` is None when workspace.yaml could not be read."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    pipelines: list[Pipeline] = []
    first_at: dict[str, int] = {}
    for index, item in enumerate(data["pipelines"]):
        path = ("pipelines", index)
        name = item["name"]
        if name in first_at:
            report.error(
                codes.DUPLICATE_NAME,
                f"pipeline '{name}' is declared twice (first at line "
                f"{document.value_span(('pipelines', first_at[name], 'name')).line})",
                document.value_span((*path, "name")),
            )
            continue
        first_at[name] = index
        pipelines.append(_pipeline(document, path, item, object_kinds, report))
    return tuple(pipelines), report


def _pipeline(
    document: YamlDocument,
    path: tuple[str | int, ...],
    item: dict[str, Any],
    object_kinds: tuple[str, ...] | None,
    report: Report,
) -> Pipeline:
    name = item["name"]
    subject = item["subject"]
    if object_kinds is not None and subject != "conversation" and subject not in object_kinds:
        options = ["conversation", *object_kinds]
        report.error(
            codes.UNKNOWN_SUBJECT,
            f"pipeline '{name}': subject '{subject}' is neither conversation nor a kind of "
            "business object",
            document.value_span((*path, "subject")),
            did_you_mean(subject, options) or f"known kinds: {known_list(options)}",
        )

    stages: list[Stage] = []
    stage_index: dict[str, int] = {}
    for s_index, stage in enumerate(item["stages"]):
        span = document.value_span((*path, "stages", s_index, "name"))
        if stage["name"] in stage_index:
            report.error(
                codes.DUPLICATE_NAME,
                f"pipeline '{name}': stage '{stage['name']}' is declared twice",
                span,
            )
            continue
        stage_index[stage["name"]] = s_index
        stages.append(
            Stage(
                name=stage["name"],
                label=stage["label"],
                waiting_on=stage.get("waiting_on"),
                terminal=bool(stage.get("terminal", False)),
                span=span,
            )
        )
    names = list(stage_index)
    terminal = {s.name for s in stages if s.terminal}

    initial = item["initial"]
    if initial not in stage_index:
        report.error(
            codes.UNKNOWN_INITIAL_STAGE,
            f"pipeline '{name}': initial stage '{initial}' is not one of its stages",
            document.value_span((*path, "initial")),
            did_you_mean(initial, names) or f"stages: {known_list(names)}",
        )

    moves = _moves(document, path, name, item.get("moves", {}), names, terminal, report)
    _flow_checks(document, path, name, stages, moves, initial, stage_index, report)
    return Pipeline(
        name=name,
        subject=subject,
        stages=tuple(stages),
        moves=tuple(moves),
        initial=initial,
        span=document.value_span((*path, "name")),
        label=item.get("label"),
    )


def _moves(
    document: YamlDocument,
    path: tuple[str | int, ...],
    pipeline: str,
    written: dict[str, list[str]],
    names: list[str],
    terminal: set[str],
    report: Report,
) -> list[Move]:
    moves: list[Move] = []
    for source, targets in written.items():
        source_span = document.key_span((*path, "moves", source))
        if source not in names:
            report.error(
                codes.MOVE_FROM_UNKNOWN_STAGE,
                f"pipeline '{pipeline}': move from '{source}', which is not one of its stages",
                source_span,
                did_you_mean(source, names) or f"stages: {known_list(names)}",
            )
            continue
        if source in terminal:
            report.warning(
                codes.TERMINAL_WITH_MOVES,
                f"pipeline '{pipeline}': stage '{source}' is terminal but has moves out of it",
                source_span,
                "remove the moves, or drop 'terminal: true' from the stage",
            )
        for t_index, target in enumerate(targets):
            span = document.value_span((*path, "moves", source, t_index))
            if target not in names:
                report.error(
                    codes.MOVE_TO_UNKNOWN_STAGE,
                    f"pipeline '{pipeline}': move from '{source}' to '{target}', which is not "
                    "one of its stages",
                    span,
                    did_you_mean(target, names) or f"stages: {known_list(names)}",
                )
                continue
            if target == source:
                report.warning(
                    codes.MOVE_TO_ITSELF,
                    f"pipeline '{pipeline}': stage '{source}' moves to itself",
                    span,
                    "remove it; staying in a stage needs no move",
                )
                continue
            moves.append(Move(source, target, span))
    return moves


def _flow_checks(
    document: YamlDocument,
    path: tuple[str | int, ...],
    pipeline: str,
    stages: list[Stage],
    moves: list[Move],
    initial: str,
    stage_index: dict[str, int],
    report: Report,
) -> None:
    sources = {m.source for m in moves}
    for stage in stages:
        if not stage.terminal and stage.name not in sources and stage.span is not None:
            report.warning(
                codes.DEAD_END_STAGE,
                f"pipeline '{pipeline}': work in stage '{stage.name}' can never leave it",
                stage.span,
                "add moves out of it, or mark it 'terminal: true'",
            )
    if initial not in stage_index:
        return
    reached = {initial}
    queue = deque([initial])
    while queue:
        current = queue.popleft()
        for move in moves:
            if move.source == current and move.target not in reached:
                reached.add(move.target)
                queue.append(move.target)
    for stage in stages:
        if stage.name not in reached:
            report.error(
                codes.UNREACHABLE_STAGE,
                f"pipeline '{pipeline}': stage '{stage.name}' cannot be reached from the "
                f"initial stage '{initial}'",
                document.value_span((*path, "stages", stage_index[stage.name], "name")),
                "add a move into it, or remove the stage",
            )
