"""`kazi simulate-ai`: a local OpenAI-compatible endpoint with fault switches.

    kazi simulate-ai [--bind 127.0.0.1:8091] [--fault ok|slow|500|garbage] [--delay 10]

Point a workspace's ai.yaml at it (provider: openai_compat, model: {base_url:
http://127.0.0.1:8091/v1, name: kazi-sim}); switch faults while it runs with
`curl -d '{"mode":"500"}' http://127.0.0.1:8091/_faults`.
"""

from __future__ import annotations

import argparse

from connectors.openai_compat.simulator import FAULTS, AiSimulator


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "simulate-ai",
        help="run a local OpenAI-compatible chat-completions server with fault switches",
        description="A local chat-completions endpoint that answers Kazi's AI jobs "
        "deterministically, for tests and the demo; no network needed.",
    )
    command.add_argument("--bind", default="127.0.0.1:8091", help="HOST:PORT to listen on")
    command.add_argument("--fault", choices=FAULTS, default="ok", help="start in this mode")
    command.add_argument("--delay", type=float, default=10.0, help="seconds a 'slow' answer takes")
    command.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    host, _, port = str(arguments.bind).rpartition(":")
    simulator = AiSimulator(host or "127.0.0.1", int(port), arguments.fault)
    simulator.set_fault(arguments.fault, arguments.delay)
    print(f"AI simulator at {simulator.url} (mode {arguments.fault}); Ctrl-C stops it", flush=True)
    try:
        simulator.serve_forever()
    finally:
        simulator.stop()
    return 0
