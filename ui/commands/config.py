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
from dsl.scenarios import ScenarioError, initial_state, instant, plain, run_folder
from dsl.workspace import CompileResult, compile_workspace
from engine.automation.traces import recent_traces
from engine.core.rules import DomainEvent, effect_to_json
from engine.core.step import step
from engine.db import make_engine, workspace_session
from engine.settings import Settings
from engine.startup import check_database
from engine.whatsapp.webhook import workspace_id_for
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
    command.add_argument("path", type=Path, nargs="?", help="the workspace folder")
    command.add_argument("--event", type=Path, help="a YAML/JSON event to trace through the rules")
    command.add_argument(
        "--trace",
        action="store_true",
        help="print a live conversation's stored rule trace (with --workspace, --conversation)",
    )
    command.add_argument("--workspace", help="the workspace's slug, for --trace")
    command.add_argument("--conversation", type=int, help="the conversation's id, for --trace")
    command.add_argument("--last", type=int, default=10, help="how many events --trace shows")
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
    if arguments.trace:
        return _explain_trace(arguments)
    if arguments.path is None:
        print(
            "kazi explain: give the workspace folder (or --trace for a live one)", file=sys.stderr
        )
        return 2
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
        state, event = initial_state(graph, spec), _event_from(spec)
    except (OSError, yaml.YAMLError, ScenarioError, KeyError, TypeError, ValueError) as error:
        print(f"kazi explain: cannot read the event: {error}", file=sys.stderr)
        return 2
    # The very step the workers run, on the state the file describes.
    outcome = step(state, event, graph, event.occurred_at)
    for traced in outcome.traces:
        key = f" {traced.event.key!r}" if traced.event.key else ""
        by = f" (caused by rule {traced.event.caused_by})" if traced.event.caused_by else ""
        print(f"event {traced.event.kind}{key}{by} at {traced.event.occurred_at.isoformat()}")
        if not traced.rules:
            print("  no rule listens to this event")
        for item in traced.rules:
            if item.fired:
                print(f"  fired    {item.rule}")
            elif item.reason:
                print(f"  skipped  {item.rule}: {item.reason}")
            else:
                print(f"  no       {item.rule}: false: {item.failed}")
    if not outcome.traces:
        print(f"event {event.kind} at {event.occurred_at.isoformat()}")
        print("  no rule listens to this event")
    for effect in outcome.effects:
        print("  -> " + json.dumps(effect_to_json(effect), default=str))
    return 0


def _explain_trace(arguments: argparse.Namespace) -> int:
    """What the rules did, and why not, on a stored conversation: from the traces the
    workers wrote as they stepped it."""
    if not arguments.workspace or arguments.conversation is None:
        print("kazi explain --trace needs --workspace SLUG --conversation ID", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    check_database(settings)
    db = make_engine(settings.database_url)
    try:
        workspace_id = workspace_id_for(db, arguments.workspace)
        if workspace_id is None:
            print(f"kazi explain: no workspace {arguments.workspace!r}", file=sys.stderr)
            return 2
        with workspace_session(db, workspace_id) as session:
            traced = recent_traces(session, arguments.conversation, max(1, arguments.last))
    finally:
        db.dispose()
    if not traced:
        print(f"conversation {arguments.conversation}: no rule has looked at it yet")
        return 0
    for item in traced:
        print(f"{item.at.isoformat()}  {item.headline}")
        for rule in item.rules:
            print(
                f"  {'fired' if rule.fired else 'no':<8} {rule.rule}"
                + ("" if rule.fired else f": {rule.why}")
            )
    return 0


def _event_from(spec: dict[str, Any]) -> DomainEvent:
    """An event file: `kind`, `at`, optional `key`, payload (`message`, `payment`, ...) and
    the state (`conversation`, `contact`, `objects`) as in a scenario."""
    data: dict[str, Any] = plain(dict(spec.get("data") or {}))
    for name in ("message", "payment", "task", "sla"):
        if name in spec:
            data[name] = plain(spec[name])
    kind = str(spec["kind"]).strip().replace(" ", "_")
    return DomainEvent(kind, "explain", instant(spec["at"]), spec.get("key"), data)


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
