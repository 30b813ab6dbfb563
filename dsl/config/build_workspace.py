"""workspace.yaml → the workspace part of the model, with its own consistency checks."""

from __future__ import annotations

import itertools
import zoneinfo
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from dsl.config import codes
from dsl.config.builtins import BUILTIN_OBJECT_KINDS, builtin_fields_of
from dsl.config.hours import WEEKDAYS, minutes_between, parse_day
from dsl.config.report import Report, locate_in_scalar
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import YamlDocument
from engine.core.config import (
    BusinessNumber,
    CustomField,
    FieldType,
    Holiday,
    OpeningHours,
    Team,
    Teammate,
)

DEFAULT_BUSINESS_DAY_MINUTES = 480


@dataclass(frozen=True)
class WorkspacePart:
    """What workspace.yaml declares; other files are checked against it."""

    slug: str
    name: str
    timezone: str
    currency: str | None
    default_language: str | None
    opening_hours: tuple[OpeningHours, ...]
    holidays: tuple[Holiday, ...]
    numbers: tuple[BusinessNumber, ...]
    teammates: tuple[Teammate, ...]
    teams: tuple[Team, ...]
    fields: tuple[CustomField, ...]
    object_kinds: tuple[str, ...]
    business_day_minutes: int

    def team_names(self) -> set[str]:
        return {t.name for t in self.teams}

    def handles(self) -> set[str]:
        return {t.handle for t in self.teammates}

    def members_of(self, team: str) -> set[str]:
        return next((set(t.members) for t in self.teams if t.name == team), set())


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone_ok(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def build_workspace(document: YamlDocument) -> tuple[WorkspacePart, Report]:
    """Build the workspace part. `document.data` has passed the schema."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    if not _timezone_ok(data["timezone"]):
        report.error(
            codes.UNKNOWN_TIMEZONE,
            f"unknown time zone '{data['timezone']}'",
            document.value_span(("timezone",)),
            did_you_mean(data["timezone"], _known_zones())
            or "use an IANA name like Africa/Nairobi",
        )
    hours, day_minutes = _opening_hours(document, data.get("business_hours", {}), report)
    teams, teammates = _people(document, data, report)
    fields = _fields(document, data.get("fields", {}), report)
    declared_kinds = [k for k in data.get("fields", {}) if k not in ("contact", "conversation")]
    kinds = tuple(dict.fromkeys([*BUILTIN_OBJECT_KINDS, *declared_kinds]))
    part = WorkspacePart(
        slug=data["slug"],
        name=data["name"],
        timezone=data["timezone"],
        currency=data.get("currency"),
        default_language=data.get("default_language"),
        opening_hours=hours,
        holidays=_holidays(document, data.get("holidays", []), report),
        numbers=_numbers(document, data.get("numbers", []), report),
        teammates=teammates,
        teams=teams,
        fields=fields,
        object_kinds=kinds,
        business_day_minutes=day_minutes,
    )
    return part, report


def _opening_hours(
    document: YamlDocument,
    days: dict[str, str],
    report: Report,
    at: tuple[str | int, ...] = ("business_hours",),
) -> tuple[tuple[OpeningHours, ...], int]:
    """Periods per weekday, checked; `at` is where the days sit (business hours or a shift)."""
    result: list[OpeningHours] = []
    open_day_minutes: list[int] = []
    for weekday, day in enumerate(WEEKDAYS):
        text = days.get(day)
        if text is None:
            continue
        path = (*at, day)
        periods = parse_day(text)
        valid = []
        for period in periods:
            if period.closes <= period.opens:
                written = text[period.offset :].split(",")[0].strip()
                report.error(
                    codes.CLOSES_BEFORE_OPENS,
                    f"{day}: {written} closes at or before it opens",
                    locate_in_scalar(document, path, written),
                    "write opening time first; a period cannot run past midnight",
                )
                continue
            valid.append(period)
        ordered = sorted(valid, key=lambda p: p.opens)
        for before, after in itertools.pairwise(ordered):
            if after.opens < before.closes:
                report.error(
                    codes.OVERLAPPING_HOURS,
                    f"{day}: opening periods overlap "
                    f"({before.opens:%H:%M}-{before.closes:%H:%M} and "
                    f"{after.opens:%H:%M}-{after.closes:%H:%M})",
                    document.value_span(path),
                    "merge them into one period",
                )
        minutes = sum(minutes_between(p.opens, p.closes) for p in valid)
        if minutes:
            open_day_minutes.append(minutes)
        result.extend(OpeningHours(weekday, p.opens, p.closes) for p in ordered)
    average = (
        round(sum(open_day_minutes) / len(open_day_minutes))
        if open_day_minutes
        else DEFAULT_BUSINESS_DAY_MINUTES
    )
    return tuple(result), average


def _holidays(
    document: YamlDocument, items: list[dict[str, str]], report: Report
) -> tuple[Holiday, ...]:
    result: list[Holiday] = []
    seen: dict[date, int] = {}
    for index, item in enumerate(items):
        day = date.fromisoformat(item["date"])
        if day in seen:
            report.warning(
                codes.DUPLICATE_HOLIDAY,
                f"holiday {day.isoformat()} is listed twice (first at line "
                f"{document.value_span(('holidays', seen[day], 'date')).line})",
                document.value_span(("holidays", index, "date")),
            )
            continue
        seen[day] = index
        result.append(Holiday(day, item["name"]))
    return tuple(result)


def _duplicates(
    document: YamlDocument,
    items: list[dict[str, Any]],
    list_key: str,
    key: str,
    what: str,
    report: Report,
) -> None:
    """Report every item whose `key` repeats an earlier item's."""
    first_at: dict[Any, int] = {}
    for index, item in enumerate(items):
        value = item.get(key)
        if value is None:
            continue
        if value in first_at:
            line = document.value_span((list_key, first_at[value], key)).line
            report.error(
                codes.DUPLICATE_NAME,
                f"{what} '{value}' is declared twice (first at line {line})",
                document.value_span((list_key, index, key)),
            )
        else:
            first_at[value] = index


def _numbers(
    document: YamlDocument, items: list[dict[str, str]], report: Report
) -> tuple[BusinessNumber, ...]:
    for key in ("name", "phone", "phone_number_id"):
        _duplicates(document, items, "numbers", key, f"number {key}", report)
    return tuple(
        BusinessNumber(
            name=item["name"],
            phone=item["phone"],
            phone_number_id=item["phone_number_id"],
            span=document.value_span(("numbers", index, "name")),
            messages_per_second=_rate(item.get("messages_per_second")),
            pipeline=item.get("pipeline"),
        )
        for index, item in enumerate(items)
    )


def _rate(value: Any) -> float | None:
    """The schema has checked it is a positive number when present."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _people(
    document: YamlDocument, data: dict[str, Any], report: Report
) -> tuple[tuple[Team, ...], tuple[Teammate, ...]]:
    team_items: list[dict[str, Any]] = data.get("teams", [])
    mate_items: list[dict[str, Any]] = data.get("teammates", [])
    _duplicates(document, team_items, "teams", "name", "team", report)
    _duplicates(document, mate_items, "teammates", "handle", "teammate", report)
    _duplicates(document, mate_items, "teammates", "email", "email", report)
    team_names = [t["name"] for t in team_items]
    handles = [m["handle"] for m in mate_items]

    # Membership may be written on either side; both sides must name known things.
    from_team: set[tuple[str, str]] = set()
    from_mate: set[tuple[str, str]] = set()
    for t_index, team in enumerate(team_items):
        for m_index, handle in enumerate(team.get("members", [])):
            span = document.value_span(("teams", t_index, "members", m_index))
            if handle not in handles:
                report.error(
                    codes.TEAM_UNKNOWN_MEMBER,
                    f"team '{team['name']}' lists '{handle}', who is not a declared teammate",
                    span,
                    did_you_mean(handle, handles) or f"teammates: {known_list(handles)}",
                )
                continue
            from_team.add((team["name"], handle))
    for m_index, mate in enumerate(mate_items):
        for t_index, team_name in enumerate(mate.get("teams", [])):
            span = document.value_span(("teammates", m_index, "teams", t_index))
            if team_name not in team_names:
                report.error(
                    codes.TEAMMATE_UNKNOWN_TEAM,
                    f"teammate '{mate['handle']}' is in team '{team_name}', which is not declared",
                    span,
                    did_you_mean(team_name, team_names) or f"teams: {known_list(team_names)}",
                )
                continue
            from_mate.add((team_name, mate["handle"]))
    pairs = from_team | from_mate
    for team_name, handle in sorted(from_team ^ from_mate):
        if (team_name, handle) in from_team:
            t_index = team_names.index(team_name)
            m_index = team_items[t_index]["members"].index(handle)
            span = document.value_span(("teams", t_index, "members", m_index))
            message = (
                f"team '{team_name}' lists '{handle}', "
                f"but teammate '{handle}' does not list the team"
            )
        else:
            m_index = handles.index(handle)
            t_index = mate_items[m_index]["teams"].index(team_name)
            span = document.value_span(("teammates", m_index, "teams", t_index))
            message = (
                f"teammate '{handle}' lists team '{team_name}', but the team does not list them"
            )
        report.warning(
            codes.MEMBERSHIP_ONE_SIDED,
            message,
            span,
            "they count as a member; write the membership on both sides to keep them in step",
        )

    teams = tuple(
        Team(
            name=team["name"],
            members=tuple(h for h in handles if (team["name"], h) in pairs),
            span=document.value_span(("teams", index, "name")),
            label=team.get("label"),
        )
        for index, team in enumerate(team_items)
    )
    teammates = tuple(
        Teammate(
            handle=mate["handle"],
            name=mate["name"],
            email=mate["email"],
            role=mate["role"],
            teams=tuple(t for t in team_names if (t, mate["handle"]) in pairs),
            capacity=mate.get("capacity"),
            languages=tuple(mate.get("languages", [])),
            span=document.value_span(("teammates", index, "handle")),
            shifts=_shifts(document, mate, index, report),
        )
        for index, mate in enumerate(mate_items)
    )
    return teams, teammates


def _shifts(
    document: YamlDocument, mate: dict[str, Any], index: int, report: Report
) -> tuple[OpeningHours, ...] | None:
    """A teammate's shifts, checked like opening hours; None when they wrote none."""
    if "shifts" not in mate:
        return None
    at = ("teammates", index, "shifts")
    shifts, _ = _opening_hours(document, mate["shifts"] or {}, report, at)
    if not shifts:
        report.warning(
            codes.NEVER_ON_SHIFT,
            f"teammate '{mate['handle']}' has shifts but none with hours: routing never picks them",
            document.key_span(at),
            "give at least one day hours such as 08:00-17:00, or leave `shifts` out",
        )
    return shifts


def _fields(
    document: YamlDocument, owners: dict[str, list[dict[str, Any]]], report: Report
) -> tuple[CustomField, ...]:
    result: list[CustomField] = []
    for owner, items in owners.items():
        if owner not in ("contact", "conversation"):
            # A new owner name declares a new kind of object; `contacts` is far likelier a typo.
            likely = did_you_mean(owner, ["contact", "conversation", *BUILTIN_OBJECT_KINDS])
            if likely is not None and owner not in BUILTIN_OBJECT_KINDS:
                report.warning(
                    codes.OWNER_LOOKS_MISSPELT,
                    f"fields for '{owner}' declare a new kind of business object",
                    document.key_span(("fields", owner)),
                    likely,
                )
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            path = ("fields", owner, index)
            name, kind = item["name"], FieldType(item["type"])
            name_span = document.value_span((*path, "name"))
            if name in seen:
                report.error(
                    codes.DUPLICATE_NAME,
                    f"{owner} field '{name}' is declared twice (first at line "
                    f"{document.value_span(('fields', owner, seen[name], 'name')).line})",
                    name_span,
                )
                continue
            seen[name] = index
            if name in builtin_fields_of(owner):
                report.error(
                    codes.FIELD_SHADOWS_BUILTIN,
                    f"{owner}.{name} is a built-in field; a custom field cannot take its name",
                    name_span,
                    "choose another name",
                )
            choices = tuple(item.get("choices", []))
            if kind is FieldType.CHOICE and not choices:
                report.error(
                    codes.CHOICE_WITHOUT_CHOICES,
                    f"{owner} field '{name}' is a choice but lists no choices",
                    document.value_span((*path, "type")),
                    "add 'choices: [...]'",
                )
            if kind is not FieldType.CHOICE and choices:
                report.warning(
                    codes.CHOICES_ON_NON_CHOICE,
                    f"{owner} field '{name}' has choices but its type is {kind.value}",
                    document.key_span((*path, "choices")),
                    "set 'type: choice' or remove the choices",
                )
            result.append(
                CustomField(
                    owner=owner,
                    name=name,
                    type=kind,
                    choices=choices,
                    span=name_span,
                    label=item.get("label"),
                )
            )
    return tuple(result)
