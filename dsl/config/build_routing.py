"""routing.yaml → ordered routing rules, checked against the declared teams and teammates."""

from __future__ import annotations

from typing import Any

from dsl.config import codes
from dsl.config.build_workspace import WorkspacePart
from dsl.config.report import Report
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import YamlDocument
from engine.core.config import Expression, RoutingRule

DEFAULT_STRATEGY = "round_robin"


def build_routing(
    document: YamlDocument, workspace: WorkspacePart | None
) -> tuple[tuple[RoutingRule, ...], Report]:
    """Build the routing rules; team checks are skipped when `workspace` is None."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    rules: list[RoutingRule] = []
    first_at: dict[str, int] = {}
    catch_all: str | None = None
    for index, item in enumerate(data["rules"]):
        path = ("rules", index)
        name = item["name"]
        name_span = document.value_span((*path, "name"))
        if name in first_at:
            report.error(
                codes.DUPLICATE_NAME,
                f"routing rule '{name}' is declared twice",
                name_span,
            )
            continue
        first_at[name] = index
        if catch_all is not None:
            report.warning(
                codes.ROUTING_RULE_NEVER_APPLIES,
                f"routing rule '{name}' never applies: '{catch_all}' above it matches everything",
                name_span,
                "move it above the catch-all rule",
            )
        when = item.get("when")
        if when is None and catch_all is None:
            catch_all = name
        team, teammate = item.get("team"), item.get("teammate")
        if team is None and teammate is None:
            report.error(
                codes.ROUTING_WITHOUT_TARGET,
                f"routing rule '{name}' names neither a team nor a teammate",
                document.key_span(path),
                "add 'team:' or 'teammate:'",
            )
        if workspace is not None:
            _check_targets(document, path, name, team, teammate, workspace, report)
        rules.append(
            RoutingRule(
                name=name,
                when=Expression(when, document.where((*path, "when")).content)
                if when is not None
                else None,
                team=team,
                teammate=teammate,
                strategy=item.get("strategy", DEFAULT_STRATEGY),
                span=name_span,
            )
        )
    return tuple(rules), report


def _check_targets(
    document: YamlDocument,
    path: tuple[str | int, ...],
    name: str,
    team: str | None,
    teammate: str | None,
    workspace: WorkspacePart,
    report: Report,
) -> None:
    teams, handles = workspace.team_names(), workspace.handles()
    team_known = team is None or team in teams
    if not team_known:
        report.error(
            codes.ROUTING_UNKNOWN_TEAM,
            f"routing rule '{name}' sends to team '{team}', which is not declared",
            document.value_span((*path, "team")),
            did_you_mean(str(team), teams) or f"teams: {known_list(teams)}",
        )
    if teammate is not None and teammate not in handles:
        report.error(
            codes.ROUTING_UNKNOWN_TEAMMATE,
            f"routing rule '{name}' sends to teammate '{teammate}', who is not declared",
            document.value_span((*path, "teammate")),
            did_you_mean(teammate, handles) or f"teammates: {known_list(handles)}",
        )
        return
    if team is None or not team_known or teammate is None:
        return
    if teammate not in workspace.members_of(team):
        report.error(
            codes.ROUTING_TEAMMATE_NOT_IN_TEAM,
            f"routing rule '{name}' sends to teammate '{teammate}', who is not in team '{team}'",
            document.value_span((*path, "teammate")),
            f"members of {team}: {known_list(workspace.members_of(team))}",
        )
