"""Scenario tests (`tests/*.yaml` in a workspace folder), run purely in memory.

A scenario gives a starting conversation, contact and business objects, then events
at given times. The runner plays them through the compiled graph the way the engine
would: effects change the in-memory state, stage moves and tags raise follow-on
events, delayed blocks resume (re-checking their guards) when time passes their due
moment, tasks fall due. Then it compares what happened with what the scenario expects.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.core.rules import (
    AddTag,
    Assign,
    CreateTask,
    DomainEvent,
    Effect,
    MoveStage,
    RemoveTag,
    RuleGraph,
    ScheduleDelayed,
    SendTemplate,
    SendText,
    SetField,
    Snapshot,
    effect_to_json,
    evaluate,
    resume,
)

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "scenario.schema.json"
_MAX_CASCADE = 25  # follow-on events one event may cause before we call it a runaway


@dataclass(frozen=True)
class ScenarioResult:
    file: str
    name: str
    passed: bool
    failures: tuple[str, ...] = ()
    diff: str = ""


class ScenarioError(Exception):
    """A scenario file that cannot be run: unreadable, or not the documented shape."""


@dataclass
class _World:
    """The in-memory conversation a scenario plays out on."""

    graph: RuleGraph
    conversation: dict[str, Any]
    contact: dict[str, Any]
    objects: dict[str, dict[str, Any]]
    effects: list[Effect] = field(default_factory=list)
    tasks: list[CreateTask] = field(default_factory=list)
    scheduled: list[ScheduleDelayed] = field(default_factory=list)
    due_tasks: list[CreateTask] = field(default_factory=list)
    counter: int = 0

    def snapshot(self) -> Snapshot:
        return Snapshot(self.conversation, self.contact, self.objects)

    def next_id(self) -> str:
        self.counter += 1
        return f"scenario-{self.counter}"

    # ----- time passing
    def advance(self, until: datetime) -> None:
        """Fire every delayed block and task due at or before `until`, in time order."""
        while True:
            pending: list[tuple[datetime, int, Any]] = [
                (s.due_at, 0, s) for s in self.scheduled if s.due_at and s.due_at <= until
            ]
            pending += [(t.due_at, 1, t) for t in self.due_tasks if t.due_at and t.due_at <= until]
            if not pending:
                return
            at, _, item = min(pending, key=lambda p: (p[0], p[1]))
            if isinstance(item, ScheduleDelayed):
                self.scheduled.remove(item)
                outcome = resume(self.graph, item, self.snapshot(), at)
                self.apply(list(outcome.effects), at, 0)
            else:
                self.due_tasks.remove(item)
                task = {"title": item.title, "due_at": at.isoformat()}
                if item.assignee is not None:
                    task["assignee"] = item.assignee.name
                self.handle(DomainEvent("task_due", self.next_id(), at, None, {"task": task}), 0)

    # ----- events and effects
    def handle(self, event: DomainEvent, depth: int) -> None:
        if depth > _MAX_CASCADE:
            raise ScenarioError("rules keep triggering each other: more than 25 follow-on events")
        self._record(event)
        outcome = evaluate(self.graph, event, self.snapshot(), event.occurred_at)
        self.apply(list(outcome.effects), event.occurred_at, depth)

    def _record(self, event: DomainEvent) -> None:
        """What the event itself changes before rules see it (as the engine stores it)."""
        at = event.occurred_at.isoformat()
        if event.kind == "message_received":
            self.conversation["last_inbound_at"] = at
            self.conversation["waiting_on"] = "us"
        elif event.kind == "stage_entered" and event.key:
            self._subject(event).update(stage=event.key)
        elif event.kind == "status_changed" and event.key:
            self.conversation["status"] = event.key
        elif event.kind == "tag_added" and event.key:
            tags = self.conversation.setdefault("tags", [])
            if event.key not in tags:
                tags.append(event.key)

    def _subject(self, event: DomainEvent) -> dict[str, Any]:
        """The conversation or business object whose pipeline has the event's stage."""
        pipeline = event.data.get("pipeline")
        if not isinstance(pipeline, str):
            pipelines = self.graph.stage_pipelines.get(event.key or "", ())
            pipeline = pipelines[0] if pipelines else None
        subject = self.graph.pipeline_subjects.get(pipeline or "", "conversation")
        return self._owner(subject)

    def apply(self, effects: list[Effect], at: datetime, depth: int) -> None:
        for effect in effects:
            self.effects.append(effect)
            follow = self._apply_one(effect, at)
            for event in follow:
                self.handle(event, depth + 1)

    def _apply_one(self, effect: Effect, at: datetime) -> list[DomainEvent]:
        rule = effect.rule
        if isinstance(effect, MoveStage):
            old = self.conversation.get("stage")
            if old == effect.stage:
                return []
            self.conversation["pipeline"] = effect.pipeline
            events = []
            if isinstance(old, str):
                events.append(DomainEvent("stage_left", self.next_id(), at, old, caused_by=rule))
            events.append(
                DomainEvent("stage_entered", self.next_id(), at, effect.stage, caused_by=rule)
            )
            return events
        if isinstance(effect, AddTag):
            tags = self.conversation.setdefault("tags", [])
            if effect.tag in tags:
                return []
            return [DomainEvent("tag_added", self.next_id(), at, effect.tag, caused_by=rule)]
        if isinstance(effect, RemoveTag):
            tags = self.conversation.get("tags") or []
            self.conversation["tags"] = [t for t in tags if t != effect.tag]
            return []
        if isinstance(effect, Assign):
            if effect.teammate is not None:
                self.conversation["owner"] = effect.teammate
            if effect.team is not None:
                self.conversation["team"] = effect.team
            return [DomainEvent("assigned", self.next_id(), at, caused_by=rule)]
        if isinstance(effect, SetField):
            target = self._owner(effect.owner)
            if effect.owner == "conversation" and effect.field == "status":
                if target.get("status") == effect.value:
                    return []
                return [
                    DomainEvent(
                        "status_changed", self.next_id(), at, str(effect.value), caused_by=rule
                    )
                ]
            target[effect.field] = effect.value
            return []
        if isinstance(effect, CreateTask):
            self.tasks.append(effect)
            if effect.due_at is not None:
                self.due_tasks.append(effect)
            return []
        if isinstance(effect, ScheduleDelayed):
            self.scheduled.append(effect)
            return []
        if isinstance(effect, SendTemplate | SendText):
            self.conversation["last_outbound_at"] = at.isoformat()
            self.conversation["waiting_on"] = "customer"
        return []

    def _owner(self, owner: str) -> dict[str, Any]:
        if owner == "conversation":
            return self.conversation
        if owner == "contact":
            return self.contact
        return self.objects.setdefault(owner, {})


def plain(value: Any) -> Any:
    """YAML values as the engine would store them: times as ISO strings."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ScenarioError(f"'at' must be a date-time, not {value!r}")


def _event(spec: dict[str, Any], world: _World) -> DomainEvent | None:
    kind = str(spec["kind"]).strip().replace(" ", "_")
    at = instant(spec["at"])
    if kind == "tick":
        return None
    data: dict[str, Any] = plain(dict(spec.get("data") or {}))
    for name in ("message", "payment", "task", "sla"):
        if name in spec:
            data[name] = plain(spec[name])
    return DomainEvent(kind, world.next_id(), at, spec.get("key"), data)


def _matches(expected: Any, actual: Any) -> bool:
    """Subset match: every expected field equals the actual one; times compare as instants."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _matches(v, actual.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, datetime) or (isinstance(expected, str) and isinstance(actual, str)):
        try:
            return instant(expected) == instant(actual)
        except (ValueError, ScenarioError):
            return bool(expected == actual)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    return bool(expected == actual)


def _subsequence(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> int | None:
    """Index of the first expected effect not found in order, or None when all are."""
    position = 0
    for index, wanted in enumerate(expected):
        while position < len(actual) and not _matches(wanted, actual[position]):
            position += 1
        if position == len(actual):
            return index
        position += 1
    return None


def _compact(effect: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in effect.items() if v not in (None, "", [], ())}


def run_scenario(graph: RuleGraph, scenario: dict[str, Any], file: str) -> ScenarioResult:
    world = _World(
        graph,
        plain(dict(scenario.get("conversation") or {})),
        plain(dict(scenario.get("contact") or {})),
        plain(dict(scenario.get("objects") or {})),
    )
    world.conversation.setdefault("tags", [])
    name = str(scenario["name"])
    try:
        for spec in scenario["events"]:
            at = instant(spec["at"])
            world.advance(at)
            event = _event(spec, world)
            if event is not None:
                world.handle(event, 0)
    except ScenarioError as error:
        return ScenarioResult(file, name, False, (str(error),))
    return _compare(world, scenario["expect"], file, name)


def _compare(world: _World, expect: dict[str, Any], file: str, name: str) -> ScenarioResult:
    failures: list[str] = []
    actual = [_compact(effect_to_json(e)) for e in world.effects]
    expected_effects = [plain(e) for e in expect.get("effects", [])]
    missing = _subsequence(expected_effects, actual)
    diff = ""
    if missing is not None:
        failures.append(
            f"expected effect not found (in order): {json.dumps(expected_effects[missing])}"
        )
    for unwanted in expect.get("absent", []):
        found = [a for a in actual if _matches(plain(unwanted), a)]
        if found:
            failures.append(f"unexpected effect: {json.dumps(found[0], default=str)}")
    for key in ("stage", "owner", "team", "status", "priority"):
        if key in expect and world.conversation.get(key) != expect[key]:
            failures.append(f"{key}: expected {expect[key]!r}, got {world.conversation.get(key)!r}")
    tags = sorted(world.conversation.get("tags") or [])
    if "tags" in expect and tags != sorted(expect["tags"]):
        failures.append(f"tags: expected {sorted(expect['tags'])}, got {tags}")
    if "tasks" in expect:
        tasks = [_compact(effect_to_json(t)) for t in world.tasks]
        wanted = [plain(t) for t in expect["tasks"]]
        if len(tasks) != len(wanted) or not all(
            _matches(w, t) for w, t in zip(wanted, tasks, strict=False)
        ):
            shown = json.dumps(tasks, default=str)
            failures.append(f"tasks: expected {json.dumps(wanted, default=str)}, got {shown}")
    if failures and expected_effects:
        diff = "\n".join(
            difflib.unified_diff(
                [json.dumps(e, sort_keys=True, default=str) for e in expected_effects],
                [json.dumps(a, sort_keys=True, default=str) for a in actual],
                "expected effects",
                "actual effects",
                lineterm="",
            )
        )
    return ScenarioResult(file, name, not failures, tuple(failures), diff)


def load_scenarios(path: Path) -> list[dict[str, Any]]:
    """The scenarios of one file, checked against `schemas/scenario.schema.json`."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: cannot read: {error}") from error
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "(top)"
        raise ScenarioError(f"{path}: {where}: {problems[0].message}")
    scenarios: list[dict[str, Any]] = document["scenarios"]
    return scenarios


def run_folder(graph: RuleGraph, folder: Path) -> list[ScenarioResult]:
    """Every scenario of `folder/tests/*.yaml`, in file order."""
    results: list[ScenarioResult] = []
    for path in sorted((folder / "tests").glob("*.yaml")):
        try:
            scenarios = load_scenarios(path)
        except ScenarioError as error:
            results.append(ScenarioResult(str(path), "(file)", False, (str(error),)))
            continue
        for scenario in scenarios:
            results.append(run_scenario(graph, scenario, str(path)))
    return results
