"""`kazi load PATH`: check a workspace folder and put its people into the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.core.clock import SystemClock
from engine.db import make_engine
from engine.settings import Settings
from engine.startup import check_database
from engine.workspaces.directory import ConfigRefused, compile_folder
from engine.workspaces.load import load_workspace


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
        compiled = compile_folder(folder)
    except ConfigRefused as refused:
        for diagnostic in refused.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        print(f"kazi: {folder} was not loaded; fix the errors above", file=sys.stderr)
        return 1
    config, version = compiled.config, compiled.version
    assert config is not None and version is not None  # a compiled folder has both
    db = make_engine(settings.database_url)
    try:
        workspace_id = load_workspace(db, config, version, SystemClock().now())
    finally:
        db.dispose()
    print(
        f"loaded workspace {config.slug!r} ({config.name}) as id {workspace_id}: "
        f"{len(config.teammates)} teammates, {len(config.teams)} teams, "
        f"config version {version[:12]} in force"
    )
    return 0
