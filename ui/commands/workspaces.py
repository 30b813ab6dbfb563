"""`kazi load PATH`: check a workspace folder and put its people into the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.core.clock import SystemClock
from engine.db import make_engine
from engine.settings import Settings
from engine.startup import check_database
from engine.workspaces.directory import ConfigRefused, read_folder
from engine.workspaces.load import folder_hash, load_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "load", help="check a workspace folder and load its teammates and teams"
    )
    command.add_argument("path", type=Path, help="the workspace folder, e.g. configs/retail")
    command.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    return load_folder(settings, arguments.path)


def load_folder(settings: Settings, folder: Path) -> int:
    try:
        config = read_folder(folder)
    except ConfigRefused as refused:
        for diagnostic in refused.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        print(f"kazi: {folder} was not loaded; fix the errors above", file=sys.stderr)
        return 1
    db = make_engine(settings.database_url)
    try:
        workspace_id = load_workspace(db, config, folder_hash(folder), SystemClock().now())
    finally:
        db.dispose()
    print(
        f"loaded workspace {config.slug!r} ({config.name}) as id {workspace_id}: "
        f"{len(config.teammates)} teammates, {len(config.teams)} teams"
    )
    return 0
