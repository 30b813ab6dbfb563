"""`kazi simulate`: a local WhatsApp Cloud API that chats with Kazi.

    kazi simulate --webhook-url http://127.0.0.1:8000/webhooks/whatsapp/demo \\
                  --app-secret S [--bind 127.0.0.1:8090] [--script FILE] [--faults 429:2,reorder]

Point the workspace's WhatsApp integration at `http://<bind>` as its API base URL,
with the access token printed at start. Also runnable as `python -m ui.commands.simulate`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from connectors.whatsapp.policy import ApprovedTemplate
from connectors.whatsapp.simulator import (
    DEMO_SCRIPT,
    FaultSpecError,
    ScriptError,
    Simulator,
    SimulatorConfig,
    create_app,
    load_script,
    parse_faults,
    serve,
)
from connectors.whatsapp.simulator.payloads import Business
from connectors.whatsapp.simulator.world import DEFAULT_BUSINESS
from engine.core.config import WorkspaceConfig
from engine.workspaces.directory import ConfigRefused, read_folder

SECRET_VARIABLE = "KAZI_SIMULATOR_APP_SECRET"
TOKEN_VARIABLE = "KAZI_SIMULATOR_ACCESS_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "simulate",
        help="run a local WhatsApp Cloud API simulator with scripted customers",
        description="A local WhatsApp Cloud API: a send endpoint, signed webhooks to Kazi, "
        "scripted customers, fault switches, and a page at / to chat as a customer.",
    )
    add_arguments(command)
    command.set_defaults(handler=run)


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--webhook-url", required=True, help="where to post webhooks")
    command.add_argument(
        "--app-secret",
        default=os.environ.get(SECRET_VARIABLE),
        help=f"the app secret webhooks are signed with (default: ${SECRET_VARIABLE})",
    )
    command.add_argument("--bind", default="127.0.0.1:8090", help="HOST:PORT to listen on")
    command.add_argument("--script", type=Path, help="customers script, YAML (default: the demo)")
    command.add_argument(
        "--faults",
        default="",
        help="fault switches, e.g. 429:3,500:2,timeout:1,failed-after-sent:1,"
        "duplicates:3,reorder,delay:200,race; a rate instead of a count for storms: 429@0.3",
    )
    command.add_argument(
        "--access-token",
        default=os.environ.get(TOKEN_VARIABLE, "kazi-simulator-token"),
        help=f"the bearer token sends must carry (default: ${TOKEN_VARIABLE} or "
        "kazi-simulator-token)",
    )
    command.add_argument(
        "--workspace",
        type=Path,
        help="a workspace folder: its templates.yaml templates are approved too",
    )
    # Without them: the --workspace's first number (Kazi applies only messages on the
    # workspace's own numbers), else the reference's sample number.
    command.add_argument("--phone-number-id")
    command.add_argument("--display-phone-number")
    command.add_argument("--waba-id", default=DEFAULT_BUSINESS.waba_id)
    command.add_argument("--pace", type=float, default=1.0, help="seconds between script steps")
    command.add_argument(
        "--status-delay", type=float, default=0.5, help="seconds between sent/delivered/read"
    )
    command.add_argument(
        "--timeout-seconds", type=float, default=30.0, help="how late a timed-out send answers"
    )
    command.add_argument(
        "--window-errors",
        choices=("async", "sync"),
        default="async",
        help="report sends outside the 24-hour window as a failed status (async, like "
        "WhatsApp usually does) or as an immediate 131047 error (sync)",
    )
    command.add_argument("--no-script", action="store_true", help="do not play the script")
    command.add_argument(
        "--no-statuses", action="store_true", help="send no status webhooks (sending benchmarks)"
    )
    command.add_argument(
        "--throughput",
        type=float,
        default=80.0,
        help="the number's messages per second, as Meta enforces it: 80 by default, up to "
        "1000 on a higher tier, 20 for a number shared with the Business app; above it a "
        "send answers 429 / 130429 (0: no limit)",
    )
    command.add_argument("--seed", type=int, help="seed for reproducible message ids")


def run(arguments: argparse.Namespace) -> int:
    if not arguments.app_secret:
        print(f"kazi simulate: --app-secret (or ${SECRET_VARIABLE}) is required", file=sys.stderr)
        return 2
    host, _, port = arguments.bind.rpartition(":")
    if not host or not port.isdigit():
        print(f"kazi simulate: --bind {arguments.bind!r} is not HOST:PORT", file=sys.stderr)
        return 2
    try:
        script = load_script(arguments.script or DEMO_SCRIPT)
        faults = parse_faults(arguments.faults)
        number_id = arguments.phone_number_id or DEFAULT_BUSINESS.phone_number_id
        display = arguments.display_phone_number or DEFAULT_BUSINESS.display_phone_number
        if arguments.workspace is not None:
            workspace = read_folder(arguments.workspace)
            extra = approved_templates(workspace)
            script = replace(script, templates=(*script.templates, *extra))
            waba = next(
                (
                    i.settings["business_account_id"]
                    for i in workspace.integrations
                    if i.kind == "whatsapp" and i.settings.get("business_account_id")
                ),
                None,
            )
            if waba and arguments.waba_id == DEFAULT_BUSINESS.waba_id:
                arguments.waba_id = waba  # `kazi templates sync` asks for the workspace's WABA
            if workspace.numbers and arguments.phone_number_id is None:
                number_id = workspace.numbers[0].phone_number_id
                display = arguments.display_phone_number or workspace.numbers[0].phone.lstrip("+")
    except (ScriptError, FaultSpecError, ConfigRefused) as error:
        print(f"kazi simulate: {error}", file=sys.stderr)
        return 2
    config = SimulatorConfig(
        app_secret=arguments.app_secret,
        webhook_url=arguments.webhook_url,
        access_token=arguments.access_token,
        business=Business(
            waba_id=arguments.waba_id,
            phone_number_id=number_id,
            display_phone_number=display,
        ),
        pace=arguments.pace,
        status_delay=arguments.status_delay,
        timeout_seconds=arguments.timeout_seconds,
        window_errors=arguments.window_errors,
        autostart=not arguments.no_script,
        send_statuses=not arguments.no_statuses,
        throughput=arguments.throughput,
    )
    simulator = Simulator(config, script, faults, seed=arguments.seed)
    print(
        f"WhatsApp simulator on http://{host}:{port}  (chats: http://{host}:{port}/)\n"
        f"  API base URL for Kazi: http://{host}:{port}  access token: {config.access_token}\n"
        f"  phone number id: {config.business.phone_number_id}  webhooks to: "
        f"{config.webhook_url}\n  faults: {faults.describe()}  throughput: "
        f"{config.throughput:g}/s",
        flush=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("  warning: the control API has no authentication; bind to 127.0.0.1", flush=True)
    serve(create_app(simulator), host, int(port))
    return 0


def approved_templates(config: WorkspaceConfig) -> tuple[ApprovedTemplate, ...]:
    """The workspace's templates as the simulated API approves them: every language
    configured, and the body placeholder count when all languages agree on it."""
    languages: dict[str, set[str]] = {}
    counts: dict[str, set[int]] = {}
    for template in config.templates:
        languages.setdefault(template.name, set()).add(template.language)
        body = sum(1 for v in template.variables if v.component == "body")
        counts.setdefault(template.name, set()).add(body)
    return tuple(
        ApprovedTemplate(
            name,
            frozenset(languages[name]),
            next(iter(counts[name])) if len(counts[name]) == 1 else None,
        )
        for name in sorted(languages)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kazi simulate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
