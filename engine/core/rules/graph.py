"""The compiled rule graph: immutable plain data plus precompiled callables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from engine.core.config import WorkspaceConfig
from engine.core.rules.calendar import BusinessCalendar, Duration

Roots = dict[str, Any]
Predicate = Callable[[Roots, datetime], bool]
ValueFunction = Callable[[Roots, datetime], Any]
BucketMatcher = Callable[[Any, Any, datetime], list[int]]  # (DomainEvent, Snapshot, now)


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Conjunct:
    """One `and`-part of a rule's condition, kept separately so a trace can name what failed."""

    text: str
    test: Predicate


@dataclass(frozen=True)
class ActionSpec:
    """One action: constant parameters plus value functions evaluated at fire time."""

    kind: str
    text: str
    params: Mapping[str, Any]
    values: Mapping[str, ValueFunction]
    constant: Any = None  # the Effect itself when it does not depend on the event or state


@dataclass(frozen=True)
class Block:
    """Actions that run at once (`then`) or after a delay, unless the guard holds then."""

    delay: Duration | None
    guard: Predicate | None
    guard_text: str | None
    actions: tuple[ActionSpec, ...]


@dataclass(frozen=True)
class Schedule:
    days: tuple[int, ...]  # weekdays, 0 = Monday
    at: time


@dataclass(frozen=True)
class CompiledRule:
    index: int
    name: str
    trigger: str
    key: str | None
    trigger_text: str
    condition_text: str | None
    conjuncts: tuple[Conjunct, ...]
    blocks: tuple[Block, ...]
    location: Location
    schedule: Schedule | None = None
    constant_effects: tuple[Any, ...] | None = None  # all effects, when none depends on state


@dataclass(frozen=True)
class Bucket:
    """The rules one (trigger, key) can meet, and one generated function testing them all.

    `match` returns the indexes (into `RuleGraph.rules`) of the rules whose condition holds.
    """

    rules: tuple[int, ...]
    match: BucketMatcher


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    variables: tuple[ValueFunction, ...]  # body, in placeholder order
    header_variables: tuple[ValueFunction, ...] = ()
    button_variables: tuple[ValueFunction, ...] = ()


@dataclass(frozen=True)
class RoutingSpec:
    name: str
    when: Predicate | None
    team: str | None
    teammate: str | None
    strategy: str


@dataclass(frozen=True)
class SlaTargets:
    """A policy's deadlines, worked out once when the config is compiled."""

    policy: str
    first_response: Duration | None
    next_response: Duration | None
    resolution: Duration | None
    warn_before: timedelta | None
    # What pauses the resolution clock: "waiting_on_customer", "snoozed" (sla.yaml `pause_when`).
    pause_when: frozenset[str] = frozenset({"waiting_on_customer", "snoozed"})
    # While snoozed, the first-response clock "keeps_running" or is "paused".
    first_response_when_snoozed: str = "keep_running"


@dataclass(frozen=True)
class SlaSpec:
    name: str
    applies_when: Predicate | None
    targets: SlaTargets | None = None


@dataclass(frozen=True)
class RuleGraph:
    """Everything evaluation needs, built and validated once, never changed afterwards."""

    version: str
    rules: tuple[CompiledRule, ...]
    buckets: Mapping[tuple[str, str | None], Bucket]
    calendar: BusinessCalendar
    templates: Mapping[str, tuple[TemplateSpec, ...]]  # by name; the default language first
    routing: tuple[RoutingSpec, ...]
    sla: tuple[SlaSpec, ...]
    stage_pipelines: Mapping[str, tuple[str, ...]]  # stage -> the pipelines that have it
    pipeline_subjects: Mapping[str, str]  # pipeline -> "conversation" or an object kind
    source: str  # the generated Python, kept for `kazi explain --source` and debugging
    config: WorkspaceConfig | None = None  # pipelines, teams, templates, numbers: what step reads
    constant_effects: tuple[tuple[Any, ...] | None, ...] = ()  # by rule index, for speed

    @classmethod
    def empty(cls, config: WorkspaceConfig | None = None) -> RuleGraph:
        """A graph with no rules, routing or SLA policies."""
        return cls("", (), {}, BusinessCalendar(), {}, (), (), {}, {}, "", config)

    def template(self, name: str, language: object = None) -> TemplateSpec:
        """The template in the contact's language when there is one, else the default."""
        versions = self.templates[name]
        return next((t for t in versions if t.language == language), versions[0])

    def rule(self, name: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def rules_for(self, trigger: str, key: str | None = None) -> tuple[CompiledRule, ...]:
        """The rules an event of this trigger (and key) can meet, in file order."""
        indexes: set[int] = set()
        for bucket_key in {(trigger, key), (trigger, None)}:
            bucket = self.buckets.get(bucket_key)
            if bucket is not None:
                indexes.update(bucket.rules)
        return tuple(self.rules[i] for i in sorted(indexes))
