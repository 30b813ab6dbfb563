"""`kazi`: the command line for consultants, operators and developers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.settings import SettingsError
from ui.commands import (
    config,
    contacts,
    processes,
    reports,
    simulate,
    simulate_ai,
    simulate_mpesa,
    templates,
    tokens,
    workspaces,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kazi",
        description="Kazi: WhatsApp conversations as assigned, tracked customer work.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        processes,
        workspaces,
        config,
        tokens,
        simulate,
        simulate_mpesa,
        simulate_ai,
        contacts,
        reports,
        templates,
    ):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.handler(arguments) or 0)
    except SettingsError as error:
        print(f"kazi: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
