"""sla.yaml → SLA policies with their durations in minutes."""

from __future__ import annotations

from typing import Any

from dsl.config import codes
from dsl.config.durations import EXAMPLES, ParsedDuration, parse_duration
from dsl.config.report import Report
from dsl.config.yaml_source import YamlDocument
from engine.core.config import Duration, Expression, SlaPolicy

TARGETS = ("first_response", "next_response", "resolution")
# A real support desk stops the resolution clock while the customer has the ball or the
# conversation is snoozed; a policy that wants otherwise lists less in `pause_when`.
DEFAULT_PAUSE_WHEN = ("waiting_on_customer", "snoozed")


def build_sla(
    document: YamlDocument, business_day_minutes: int, has_business_hours: bool | None
) -> tuple[tuple[SlaPolicy, ...], Report]:
    """Build the policies. `has_business_hours` is None when workspace.yaml is unreadable."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    policies: list[SlaPolicy] = []
    first_at: dict[str, int] = {}
    catch_all: str | None = None
    warned_hours = False
    for index, item in enumerate(data["policies"]):
        path = ("policies", index)
        name = item["name"]
        name_span = document.value_span((*path, "name"))
        if name in first_at:
            report.error(codes.DUPLICATE_NAME, f"SLA policy '{name}' is declared twice", name_span)
            continue
        first_at[name] = index
        if catch_all is not None:
            report.warning(
                codes.POLICY_NEVER_APPLIES,
                f"SLA policy '{name}' never applies: '{catch_all}' above it covers everything",
                name_span,
                "move it above the catch-all policy",
            )
        applies = item.get("applies_when")
        if applies is None and catch_all is None:
            catch_all = name
        business_hours = bool(item.get("business_hours", True))
        durations: dict[str, Duration] = {}
        for key in (*TARGETS, "warn_before"):
            if key not in item:
                continue
            duration = _duration(document, (*path, key), item[key], business_day_minutes, report)
            if duration is None:
                continue
            if duration.business and not business_hours:
                report.error(
                    codes.BUSINESS_DURATION_IN_CALENDAR_POLICY,
                    f"SLA policy '{name}': {key} is in business time but the policy counts "
                    "calendar time (business_hours: false)",
                    document.value_span((*path, key)),
                    "write calendar time (e.g. 2d), or set business_hours: true",
                )
            durations[key] = duration
        if not any(key in item for key in TARGETS):
            report.error(
                codes.POLICY_WITHOUT_TARGETS,
                f"SLA policy '{name}' sets no target",
                document.key_span(path),
                "add first_response, next_response or resolution",
            )
        targets = [durations[k].minutes for k in TARGETS if k in durations]
        warn = durations.get("warn_before")
        if warn is not None and targets and warn.minutes >= min(targets):
            report.warning(
                codes.WARNING_NOT_BEFORE_DEADLINE,
                f"SLA policy '{name}': warn_before ({warn.text}) is not shorter than its "
                "shortest target, so the warning would fire at once",
                document.value_span((*path, "warn_before")),
                "shorten warn_before",
            )
        if business_hours and has_business_hours is False and not warned_hours:
            warned_hours = True
            report.warning(
                codes.NO_BUSINESS_HOURS,
                f"SLA policy '{name}' counts business time, but workspace.yaml declares no "
                "business hours, so its clocks would never run",
                name_span,
                "add business_hours to workspace.yaml, or set business_hours: false",
            )
        policies.append(
            SlaPolicy(
                name=name,
                applies_when=Expression(applies, document.where((*path, "applies_when")).content)
                if applies is not None
                else None,
                first_response_minutes=_minutes(durations.get("first_response")),
                next_response_minutes=_minutes(durations.get("next_response")),
                resolution_minutes=_minutes(durations.get("resolution")),
                warn_before_minutes=_minutes(durations.get("warn_before")),
                business_hours=business_hours,
                span=name_span,
                first_response=durations.get("first_response"),
                next_response=durations.get("next_response"),
                resolution=durations.get("resolution"),
                warn_before=durations.get("warn_before"),
                pause_when=tuple(dict.fromkeys(item.get("pause_when", DEFAULT_PAUSE_WHEN))),
                first_response_when_snoozed=item.get("first_response_when_snoozed", "keep_running"),
            )
        )
    return tuple(policies), report


def _minutes(duration: Duration | None) -> int | None:
    return duration.minutes if duration is not None else None


def _duration(
    document: YamlDocument,
    path: tuple[str | int, ...],
    value: str | int,
    business_day_minutes: int,
    report: Report,
) -> Duration | None:
    text = str(value)
    parsed = parse_duration(text)
    span = document.value_span(path)
    if not isinstance(parsed, ParsedDuration):
        report.error(codes.BAD_DURATION, f"{path[-1]}: {parsed}", span, f"write e.g. {EXAMPLES}")
        return None
    if parsed.business and parsed.unit == "days":
        minutes = parsed.amount * business_day_minutes
    else:
        minutes = parsed.calendar_minutes
    return Duration(
        text=text,
        amount=parsed.amount,
        unit=parsed.unit,
        business=parsed.business,
        minutes=minutes,
        span=span,
    )
