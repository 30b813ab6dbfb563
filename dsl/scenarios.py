"""Scenario tests (`tests/*.yaml` in a workspace folder), run in memory through `step`.

A scenario gives a starting conversation, contact and business objects, then events
at given times. Each event goes through `engine.core.step.step`, the very function
the server and the workers run, so a scenario that passes is what the business will
see. This module only plays the parts the engine's adapter plays around it: it turns
the YAML into a state, lets time pass (delayed blocks and tasks fall due in time
order, as the sweeper hands them out) and compares the outcome with what the
scenario expects.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from engine.core.rules import DomainEvent, RuleGraph, effect_to_json
from engine.core.step import (
    ContactState,
    ConversationState,
    DelayDue,
    Member,
    ObjectState,
    Outcome,
    Roster,
    State,
    TaskCreated,
    shifts_of,
    step,
)
from engine.core.step.view import object_view

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "scenario.schema.json"

_CONVERSATION_KEYS = {
    "id", "number", "phone_number", "status", "waiting_on", "owner", "team", "priority",
    "pipeline", "stage", "opened_at", "resolved_at", "last_inbound_at", "last_outbound_at",
    "messages",
}  # fmt: skip
_CONTACT_KEYS = {"id", "name", "phone", "email", "language", "company", "conversations"}
_OBJECT_KEYS = {"id", "reference", "status", "amount", "currency", "pipeline", "stage"}


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
class _Play:
    """One scenario as it plays: the state, and what the steps produced so far."""

    graph: RuleGraph
    state: State
    effects: list[Any] = field(default_factory=list)
    tasks: list[TaskCreated] = field(default_factory=list)
    due_tasks: list[TaskCreated] = field(default_factory=list)
    counter: int = 0

    def next_id(self) -> str:
        self.counter += 1
        return f"scenario-{self.counter}"

    def take(self, outcome: Outcome) -> None:
        self.state = outcome.state
        self.effects.extend(outcome.effects)
        for change in outcome.changes:
            if isinstance(change, TaskCreated):
                self.tasks.append(change)
                if change.due_at is not None:
                    self.due_tasks.append(change)

    def advance(self, until: datetime) -> None:
        """Everything due at or before `until`, in time order: delayed blocks before tasks."""
        while True:
            pending: list[tuple[datetime, int, Any]] = [
                (d.due_at, 0, d) for d in self.state.pending if d.due_at <= until
            ]
            pending += [(t.due_at, 1, t) for t in self.due_tasks if t.due_at and t.due_at <= until]
            if not pending:
                return
            at, kind, item = min(pending, key=lambda p: (p[0], p[1]))
            if kind == 0:
                self.take(step(self.state, DelayDue(item), self.graph, at))
            else:
                self.due_tasks.remove(item)
                task = {"title": item.title, "assignee": item.assignee, "due_at": at, "done": False}
                event = DomainEvent("task_due", self.next_id(), at, data={"task": task})
                self.take(step(self.state, event, self.graph, at))

    def receive(self, event: DomainEvent) -> None:
        if event.kind == "message_received":
            # Storing the message is the adapter's part: count it as the engine would.
            conversation = self.state.conversation
            self.state = replace(
                self.state, conversation=replace(conversation, messages=conversation.messages + 1)
            )
        self.take(step(self.state, event, self.graph, event.occurred_at))


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


def _maybe_instant(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return instant(value)
    except (ScenarioError, ValueError) as error:
        raise ScenarioError(f"not a date-time: {value!r}") from error


def initial_state(graph: RuleGraph, scenario: dict[str, Any]) -> State:
    """The state a scenario starts from, shaped as the engine loads it from the database."""
    given = dict(scenario.get("conversation") or {})
    config = graph.config
    number = given.get("number")
    phone = given.get("phone_number")
    if config is not None and number is not None and phone is None:
        phone = next((n.phone for n in config.numbers if n.name == number), None)
    if config is not None and number is None and len(config.numbers) == 1:
        number, phone = config.numbers[0].name, config.numbers[0].phone
    tags = given.get("tags") or []
    conversation = ConversationState(
        id=int(given.get("id", 1)),
        number=number,
        phone_number=phone,
        status=str(given.get("status", "open")),
        waiting_on=given.get("waiting_on", "us"),
        owner=given.get("owner"),
        team=given.get("team"),
        priority=str(given.get("priority", "normal")),
        pipeline=given.get("pipeline") or _pipeline_of(graph, given.get("stage")),
        stage=given.get("stage"),
        tags=tuple(str(t) for t in tags),
        fields=plain({k: v for k, v in given.items() if k not in _CONVERSATION_KEYS | {"tags"}}),
        opened_at=_maybe_instant(given.get("opened_at")),
        last_inbound_at=_maybe_instant(given.get("last_inbound_at")),
        last_outbound_at=_maybe_instant(given.get("last_outbound_at")),
        messages=int(given.get("messages", 0)),
    )
    person = dict(scenario.get("contact") or {})
    contact = ContactState(
        id=person.get("id"),
        name=person.get("name"),
        phone=person.get("phone"),
        email=person.get("email"),
        language=person.get("language"),
        company=person.get("company"),
        conversations=int(person.get("conversations", 1)),
        fields=plain({k: v for k, v in person.items() if k not in _CONTACT_KEYS}),
    )
    objects = tuple(
        _object(graph, kind, dict(values or {}), position)
        for position, (kind, values) in enumerate(dict(scenario.get("objects") or {}).items())
    )
    return State(
        conversation=conversation,
        contact=contact,
        objects=objects,
        roster=_roster(graph, frozenset(scenario.get("away") or ())),
    )


def _object(graph: RuleGraph, kind: str, values: dict[str, Any], position: int) -> ObjectState:
    stage = values.get("stage")
    pipeline = values.get("pipeline") or _pipeline_of(graph, stage, kind)
    return ObjectState(
        key=f"scenario:{kind}:{position}",
        kind=kind,
        id=values.get("id"),
        reference=values.get("reference"),
        status=str(values.get("status", "open")),
        amount=_amount(values.get("amount")),
        currency=values.get("currency"),
        pipeline=pipeline,
        stage=stage,
        fields=plain({k: v for k, v in values.items() if k not in _OBJECT_KEYS}),
    )


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ScenarioError(f"not an amount: {value!r}") from error


def _pipeline_of(graph: RuleGraph, stage: Any, kind: str = "conversation") -> str | None:
    if not isinstance(stage, str):
        return None
    for pipeline in graph.stage_pipelines.get(stage, ()):
        if graph.pipeline_subjects.get(pipeline) == kind:
            return pipeline
    return None


def _roster(graph: RuleGraph, away: frozenset[str] = frozenset()) -> Roster:
    """Every teammate of the config, active and free (unless the scenario sets them away),
    on their shifts: who routing may choose from."""
    if graph.config is None:
        return Roster()
    members = tuple(
        Member(
            handle=t.handle,
            teams=tuple(team.name for team in graph.config.teams if t.handle in team.members)
            or t.teams,
            capacity=t.capacity,
            languages=t.languages,
            shifts=shifts_of(t),
            away=t.handle in away,
        )
        for t in graph.config.teammates
    )
    return Roster(members)


def _event(spec: dict[str, Any], play: _Play) -> DomainEvent | None:
    kind = str(spec["kind"]).strip().replace(" ", "_")
    at = instant(spec["at"])
    if kind == "tick":
        return None
    data: dict[str, Any] = plain(dict(spec.get("data") or {}))
    for name in ("message", "payment", "task", "sla"):
        if name in spec:
            data[name] = plain(spec[name])
    return DomainEvent(kind, play.next_id(), at, spec.get("key"), data)


def run_scenario(graph: RuleGraph, scenario: dict[str, Any], file: str) -> ScenarioResult:
    name = str(scenario["name"])
    try:
        play = _Play(graph, initial_state(graph, scenario))
        for spec in scenario["events"]:
            play.advance(instant(spec["at"]))
            event = _event(spec, play)
            if event is not None:
                play.receive(event)
    except (ScenarioError, ValueError) as error:
        return ScenarioResult(file, name, False, (str(error),))
    return _compare(play, scenario["expect"], file, name)


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


def task_json(task: TaskCreated) -> dict[str, Any]:
    """A task as scenarios name it: title, assignee {kind, name}, due time, held send."""
    out: dict[str, Any] = {"title": task.title}
    if task.team is not None:
        out["assignee"] = {"kind": "team", "name": task.team}
    elif task.recipient is not None:
        out["assignee"] = {"kind": task.recipient, "name": task.assignee}
    if task.due_at is not None:
        out["due_at"] = task.due_at.isoformat()
    if task.held is not None:
        out["held"] = {"template": task.held.template, "missing": list(task.held.missing)}
    return out


def _compare(play: _Play, expect: dict[str, Any], file: str, name: str) -> ScenarioResult:
    failures: list[str] = []
    actual = [_compact(effect_to_json(e)) for e in play.effects]
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
    conversation = play.state.conversation
    for key in ("stage", "owner", "team", "status", "priority"):
        if key in expect and getattr(conversation, key) != expect[key]:
            failures.append(f"{key}: expected {expect[key]!r}, got {getattr(conversation, key)!r}")
    tags = sorted(conversation.tags)
    if "tags" in expect and tags != sorted(expect["tags"]):
        failures.append(f"tags: expected {sorted(expect['tags'])}, got {tags}")
    for kind, wanted in (expect.get("objects") or {}).items():
        item = play.state.newest(kind)
        seen = plain(object_view(item)) if item is not None else None
        if seen is None or not _matches(plain(wanted), seen):
            failures.append(f"{kind}: expected {json.dumps(plain(wanted))}, got {seen}")
    if "tasks" in expect:
        tasks = [task_json(t) for t in play.tasks]
        wanted_tasks = [plain(t) for t in expect["tasks"]]
        if len(tasks) != len(wanted_tasks) or not all(
            _matches(w, t) for w, t in zip(wanted_tasks, tasks, strict=False)
        ):
            shown = json.dumps(tasks, default=str)
            failures.append(f"tasks: expected {json.dumps(wanted_tasks, default=str)}, got {shown}")
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
