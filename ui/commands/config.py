"""`kazi validate`, `kazi explain`, `kazi test`: check, explain and test a workspace folder."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from dsl.diagnostics import Diagnostic
from dsl.scenarios import ScenarioError, instant, plain, run_folder
from dsl.workspace import CompileResult, compile_workspace
from engine.core.rules import DomainEvent, Snapshot, effect_to_json, evaluate
from engine.workspaces.installed import INSTALLED


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "validate", help="check a workspace folder's config and rules like a compiler"
    )
    command.add_argument("path", type=Path, help="the workspace folder, e.g. configs/retail")
    command.add_argument("--format", choices=("text", "json"), default="text")
    command.set_defaults(handler=_validate)

    command = subparsers.add_parser(
        "explain", help="show which rules each trigger can fire, or trace one event"
    )
    command.add_argument("path", type=Path, help="the workspace folder")
    command.add_argument("--event", type=Path, help="a YAML/JSON event to trace through the rules")
    command.set_defaults(handler=_explain)

    command = subparsers.add_parser("test", help="run the folder's tests/*.yaml scenarios")
    command.add_argument("path", type=Path, help="the workspace folder")
    command.set_defaults(handler=_test)


def _render(diagnostic: Diagnostic, result: CompileResult) -> str:
    return diagnostic.render(result.rule_sources.get(diagnostic.span.file))


def _print_diagnostics(result: CompileResult) -> None:
    for diagnostic in result.diagnostics:
        print(_render(diagnostic, result))
    errors = sum(1 for d in result.diagnostics if d.is_error)
    warnings = len(result.diagnostics) - errors
    summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if result.graph is not None:
        rules = len(result.graph.rules)
        summary += f"; {rules} rule{'s' * (rules != 1)}, config version {result.graph.version[:12]}"
    print(summary)


def _validate(arguments: argparse.Namespace) -> int:
    result = compile_workspace(arguments.path, capabilities=INSTALLED)
    if arguments.format == "json":
        payload = {
            "ok": result.ok,
            "version": result.version,
            "diagnostics": [d.to_json() for d in result.diagnostics],
        }
        print(json.dumps(payload, indent=2))
    else:
        _print_diagnostics(result)
    return 0 if result.ok else 1


def _explain(arguments: argparse.Namespace) -> int:
    result = compile_workspace(arguments.path, capabilities=INSTALLED)
    graph = result.graph
    if graph is None:
        _print_diagnostics(result)
        return 1
    if arguments.event is None:
        by_trigger: dict[str, list[str]] = {}
        for rule in graph.rules:
            lines = [f"  {rule.name}   ({rule.location})"]
            if rule.condition_text:
                lines.append(f"      if {rule.condition_text}")
            for block in rule.blocks:
                head = "then" if block.delay is None else f"after {block.delay.describe()}"
                if block.guard_text:
                    head += f" unless {block.guard_text}"
                lines.append(f"      {head}: " + "; ".join(a.text for a in block.actions))
            by_trigger.setdefault(rule.trigger_text, []).extend(lines)
        for trigger in sorted(by_trigger):
            print(f"when {trigger}:")
            print("\n".join(by_trigger[trigger]))
        return 0
    try:
        spec = yaml.safe_load(arguments.event.read_text(encoding="utf-8"))
        event, snapshot = _event_from(spec)
    except (OSError, yaml.YAMLError, ScenarioError, KeyError, TypeError, ValueError) as error:
        print(f"kazi explain: cannot read the event: {error}", file=sys.stderr)
        return 2
    outcome = evaluate(graph, event, snapshot, event.occurred_at, trace=True)
    key = f" {event.key!r}" if event.key else ""
    print(f"event {event.kind}{key} at {event.occurred_at.isoformat()}")
    if not outcome.trace:
        print("  no rule listens to this event")
    for item in outcome.trace or ():
        if item.fired:
            print(f"  fired    {item.rule}")
        elif item.reason:
            print(f"  skipped  {item.rule}: {item.reason}")
        else:
            print(f"  no       {item.rule}: false: {item.failed}")
    for effect in outcome.effects:
        print("  -> " + json.dumps(effect_to_json(effect), default=str))
    return 0


def _event_from(spec: dict[str, Any]) -> tuple[DomainEvent, Snapshot]:
    """An event file: `kind`, `at`, optional `key`, payload (`message`, `payment`, ...) and
    the state (`conversation`, `contact`, `objects`), as in a scenario."""
    data: dict[str, Any] = plain(dict(spec.get("data") or {}))
    for name in ("message", "payment", "task", "sla"):
        if name in spec:
            data[name] = plain(spec[name])
    kind = str(spec["kind"]).strip().replace(" ", "_")
    event = DomainEvent(kind, "explain", instant(spec["at"]), spec.get("key"), data)
    snapshot = Snapshot(
        plain(dict(spec.get("conversation") or {})),
        plain(dict(spec.get("contact") or {})),
        plain(dict(spec.get("objects") or {})),
    )
    return event, snapshot


def _test(arguments: argparse.Namespace) -> int:
    result = compile_workspace(arguments.path, capabilities=INSTALLED)
    if result.graph is None:
        _print_diagnostics(result)
        return 1
    results = run_folder(result.graph, arguments.path)
    if not results:
        print(f"no scenarios in {arguments.path / 'tests'}")
        return 0
    failed = 0
    for item in results:
        print(f"{'PASS' if item.passed else 'FAIL'}  {item.name}   ({item.file})")
        if not item.passed:
            failed += 1
            for failure in item.failures:
                print(f"      {failure}")
            if item.diff:
                print("\n".join("      " + line for line in item.diff.splitlines()))
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ui.commands.config validate PATH` until the main CLI wires these in."""
    parser = argparse.ArgumentParser(prog="kazi")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    arguments = parser.parse_args(argv)
    return int(arguments.handler(arguments) or 0)


if __name__ == "__main__":
    sys.exit(main())
