"""`kazi reports rebuild`: recount a workspace's report tallies from its record.

The engine keeps the tallies as it writes; a rebuild is for data that arrived another
way: conversations from before the reports existed (run it once after upgrading), a
restore, or a calendar change that past figures should follow.

kazi reports rebuild --workspace retail
"""

from __future__ import annotations

import argparse
import sys
import time

from engine.auth import workspace_id_for
from engine.automation.runner import no_rules, rules_in_force
from engine.conversations.tallies import rebuild
from engine.db import make_engine, unit_of_work
from engine.settings import Settings
from engine.startup import check_database
from engine.workspaces.directory import ConfigDirectory


def register(subparsers: argparse._SubParsersAction) -> None:
    reports = subparsers.add_parser("reports", help="rebuild the report tallies from the record")
    commands = reports.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    again = commands.add_parser("rebuild", help="recount one workspace's report tallies")
    again.add_argument("--workspace", required=True, help="the workspace slug, e.g. retail")
    again.set_defaults(handler=_rebuild)


def _rebuild(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    db = make_engine(settings.database_url)
    try:
        workspace_id = workspace_id_for(db, arguments.workspace)
        if workspace_id is None:
            print(f"kazi: no workspace {arguments.workspace!r}", file=sys.stderr)
            return 1
        started = time.perf_counter()
        with unit_of_work(db, workspace_id) as session:
            configs = ConfigDirectory(settings.config_dir)
            rules = rules_in_force(session, configs, workspace_id) or no_rules()
            rebuild(session, workspace_id, rules.graph.calendar)
    finally:
        db.dispose()
    print(
        f"rebuilt the report tallies of {arguments.workspace} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0
