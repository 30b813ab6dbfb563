"""`kazi simulate-mpesa`: a local M-Pesa Daraja API that answers pushes and calls Kazi back.

    kazi simulate-mpesa [--bind 127.0.0.1:8091] [--outcome success] [--faults 500:2,oauth-expiry]

Point Kazi at it with `KAZI_MPESA_API_URL=http://<bind>`; set the workspace's M-Pesa
consumer key and secret variables to the values printed at start. Callbacks go to the
URLs Kazi puts in each request. Also runnable as `python -m ui.commands.simulate_mpesa`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from connectors.mpesa.simulator import (
    OUTCOMES,
    DarajaWorld,
    OutcomeError,
    SimulatorConfig,
    create_app,
    parse_faults,
)
from connectors.whatsapp.simulator import serve


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "simulate-mpesa",
        help="run a local M-Pesa Daraja simulator (STK push, query, C2B, status)",
        description="A local Daraja: OAuth, STK push and query, C2B and Transaction Status, "
        "posting callbacks back to Kazi, with scripted customer outcomes and fault switches.",
    )
    add_arguments(command)
    command.set_defaults(handler=run)


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--bind", default="127.0.0.1:8091", help="HOST:PORT to listen on")
    command.add_argument("--consumer-key", default=SimulatorConfig.consumer_key)
    command.add_argument("--consumer-secret", default=SimulatorConfig.consumer_secret)
    command.add_argument(
        "--outcome",
        default="success",
        choices=OUTCOMES,
        help="what a customer does with a push when no outcome is queued",
    )
    command.add_argument("--faults", default="", help="500:N (next N calls fail), oauth-expiry")
    command.add_argument(
        "--callback-delay", type=float, default=2.0, help="seconds before a callback is posted"
    )
    command.add_argument(
        "--late-seconds", type=float, default=30.0, help="how late a `late` callback comes"
    )
    command.add_argument("--seed", type=int, help="seed for reproducible ids and receipts")


def run(arguments: argparse.Namespace) -> int:
    host, _, port = arguments.bind.rpartition(":")
    if not host or not port.isdigit():
        print(f"kazi simulate-mpesa: --bind {arguments.bind!r} is not HOST:PORT", file=sys.stderr)
        return 2
    config = SimulatorConfig(
        consumer_key=arguments.consumer_key,
        consumer_secret=arguments.consumer_secret,
        callback_delay=arguments.callback_delay,
        late_seconds=arguments.late_seconds,
        default_outcome=arguments.outcome,
    )
    world = DarajaWorld(config, seed=arguments.seed)
    try:
        parse_faults(arguments.faults, world.faults)
    except OutcomeError as error:
        print(f"kazi simulate-mpesa: {error}", file=sys.stderr)
        return 2
    print(
        f"M-Pesa Daraja simulator on http://{host}:{port}\n"
        f"  for Kazi: KAZI_MPESA_API_URL=http://{host}:{port}\n"
        f"  consumer key: {config.consumer_key}  consumer secret: {config.consumer_secret}\n"
        f"  customers: {config.default_outcome}  faults: {world.faults.describe()}",
        flush=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("  warning: the control API has no authentication; bind to 127.0.0.1", flush=True)
    serve(create_app(world), host, int(port))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kazi simulate-mpesa", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
