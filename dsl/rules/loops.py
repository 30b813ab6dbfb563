"""Rules that can trigger each other forever: A's actions fire B, B's actions fire A."""

from __future__ import annotations

from dsl.diagnostics import Diagnostic, Severity
from dsl.rules import ast

Event = tuple[str, str | None]  # (trigger kind, key or None when any key is possible)

_TRIGGER_KEYS = {"stage_entered", "stage_left", "status_changed", "tag_added"}


def caused_events(rule: ast.Rule, sources: tuple[str, ...]) -> list[Event]:
    """The domain events this rule's actions can produce. `sources`: stages it may move from."""
    events: list[Event] = []
    for block in rule.blocks:
        for action in block.actions:
            if action.kind == "move_stage" and action.name is not None:
                events.append(("stage_entered", action.name.value))
                events += [("stage_left", s) for s in sources] or [("stage_left", None)]
            elif action.kind == "add_tag" and action.name is not None:
                events.append(("tag_added", action.name.value))
            elif action.kind in ("assign", "route", "escalate"):
                events.append(("assigned", None))
            elif (
                action.kind == "set_field"
                and action.target is not None
                and action.target.parts == ("conversation", "status")
            ):
                value = action.value.value if isinstance(action.value, ast.Text) else None
                events.append(("status_changed", value))
    return events


def _fires(rule: ast.Rule, event: Event) -> bool:
    kind, key = event
    if rule.trigger.kind != kind:
        return False
    if kind not in _TRIGGER_KEYS or rule.trigger.subject is None or key is None:
        return True
    return rule.trigger.subject.value == key


def find_loops(rules: list[ast.Rule], sources: dict[int, tuple[str, ...]]) -> list[Diagnostic]:
    """One E112 per cycle of rules that can keep triggering each other."""
    by_kind: dict[str, list[int]] = {}
    for j, rule in enumerate(rules):
        by_kind.setdefault(rule.trigger.kind, []).append(j)
    edges: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        targets: set[int] = set()
        for event in caused_events(rule, sources.get(i, ())):
            targets.update(j for j in by_kind.get(event[0], ()) if _fires(rules[j], event))
        targets.discard(i)
        edges[i] = sorted(targets)
    diagnostics: list[Diagnostic] = []
    reported: set[frozenset[int]] = set()
    for start in range(len(rules)):
        cycle = _cycle_from(start, edges)
        if cycle is None or frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        names = " → ".join(f"'{rules[i].name.value}'" for i in [*cycle, cycle[0]])
        first = rules[cycle[0]]
        diagnostics.append(
            Diagnostic(
                "E112",
                Severity.ERROR,
                f"rules can trigger each other forever: {names}",
                first.name.span,
                "add a condition that stops one of them, or change one rule's trigger",
            )
        )
    return diagnostics


def _cycle_from(start: int, edges: dict[int, list[int]]) -> list[int] | None:
    """The shortest cycle through `start` (breadth first), starting at `start`."""
    parents: dict[int, int] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for node in frontier:
            for nxt in edges[node]:
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    path.reverse()
                    return path if min(path) == start else None
                if nxt not in seen:
                    seen.add(nxt)
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    return None
