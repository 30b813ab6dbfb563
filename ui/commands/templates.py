"""`kazi templates sync`: read the account's templates and their status from Meta.

kazi templates sync --workspace retail

Every template Meta lists updates the status Kazi keeps (a PAUSED, DISABLED or REJECTED
one is then refused at send time with the reason, as after the template webhooks), and
the command reports templates.yaml entries Meta does not have or that differ from it.
The Graph API address is WhatsApp's unless KAZI_WHATSAPP_API_URL points elsewhere (the
simulator serves the list too). Exit status 0 when everything matches, 1 when something
is missing or different, 2 when the list could not be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from engine.db import make_engine
from engine.settings import Settings
from engine.startup import check_database
from engine.whatsapp.templates import TemplateSyncFailed, sync_workspace_templates
from engine.workspaces.directory import ConfigDirectory


def register(subparsers: argparse._SubParsersAction) -> None:
    templates = subparsers.add_parser("templates", help="WhatsApp message templates")
    commands = templates.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    sync = commands.add_parser(
        "sync", help="read the templates and their status from Meta; report differences"
    )
    sync.add_argument("--workspace", required=True, help="the workspace slug, e.g. retail")
    sync.set_defaults(handler=_sync)


def _sync(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    db = make_engine(settings.database_url)
    try:
        report = sync_workspace_templates(
            db, ConfigDirectory(settings.config_dir), arguments.workspace, datetime.now(UTC)
        )
    except TemplateSyncFailed as error:
        print(f"kazi templates sync: {error}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    for line in report.lines():
        print(line)
    return 0 if report.clean else 1
