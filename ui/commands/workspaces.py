"""`kazi load` and `kazi reload`: check workspace folders and put them in force.

A folder with any error is refused whole, its diagnostics printed like a
compiler's, and the config already in force keeps running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.core.clock import SystemClock
from engine.db import make_engine
from engine.settings import Settings
from engine.startup import check_database
from engine.workspaces.reload import ReloadOutcome, reload_folder, workspace_folders


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "load", help="check a workspace folder and put it in force (creating the workspace)"
    )
    command.add_argument("path", type=Path, help="the workspace folder, e.g. configs/retail")
    command.set_defaults(handler=_load)

    command = subparsers.add_parser(
        "reload",
        help="check changed workspace folders and switch every server and worker to them",
    )
    command.add_argument(
        "paths", type=Path, nargs="*", help="folders to reload (default: all in KAZI_CONFIG_DIR)"
    )
    command.set_defaults(handler=_reload)


def _load(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    return load_folder(settings, arguments.path)


def _reload(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    folders = arguments.paths or workspace_folders(settings.config_dir)
    worst = 0
    db = make_engine(settings.database_url)
    try:
        for folder in folders:
            outcome = reload_folder(db, folder, SystemClock().now(), create=False)
            worst = max(worst, _report(outcome))
    finally:
        db.dispose()
    return worst


def load_folder(settings: Settings, folder: Path) -> int:
    db = make_engine(settings.database_url)
    try:
        return _report(reload_folder(db, folder, SystemClock().now(), create=True))
    finally:
        db.dispose()


def _report(outcome: ReloadOutcome) -> int:
    for diagnostic in outcome.diagnostics:
        print(diagnostic.render(), file=sys.stderr)
    if not outcome.accepted:
        print(
            f"kazi: {outcome.folder} refused; the config in force keeps running. "
            "Fix the errors above and reload.",
            file=sys.stderr,
        )
        return 1
    state = "now in force" if outcome.changed else "already in force"
    print(
        f"{outcome.slug}: config version {outcome.version[:12] if outcome.version else ''} {state}"
    )
    return 0
