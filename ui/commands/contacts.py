"""`kazi import contacts FILE --workspace W`: a contact list in from the command line.

kazi import contacts customers.csv --workspace retail
kazi import contacts customers.csv --workspace retail --region KE --map "Town=field:county"
kazi import contacts customers.csv --workspace retail --check     # report, write nothing

Columns are mapped as the browser's import guesses them; --map corrects one
(targets: name, phone, company, language, tags, opt_in, opt_in_at, opt_in_source,
field:<name>, ignore). Rows with errors are reported by line and skipped; a mapping
problem (no phone column, an unknown field) writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.auth import workspace_id_for
from engine.automation.runner import rules_in_force
from engine.contacts.uploads import import_contact_file, list_settings
from engine.core.clock import SystemClock
from engine.db import make_engine, unit_of_work
from engine.inbox.errors import InvalidInput
from engine.settings import Settings
from engine.startup import check_database
from engine.workspaces.directory import ConfigDirectory

SHOWN_ERRORS = 50


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("import", help="import contacts from a CSV file")
    kinds = command.add_subparsers(dest="import_kind", required=True, metavar="WHAT")
    contacts = kinds.add_parser("contacts", help="a CSV of contacts: one row a person")
    contacts.add_argument("file", type=Path, help="the CSV file (header row first)")
    contacts.add_argument("--workspace", required=True, help="the workspace slug, e.g. retail")
    contacts.add_argument(
        "--region", help="country for numbers without +country (default: the workspace's)"
    )
    contacts.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=TARGET",
        help="map a column, e.g. 'Town=field:county' or 'Notes=ignore' (repeatable)",
    )
    contacts.add_argument("--check", action="store_true", help="report only, write nothing")
    contacts.set_defaults(handler=_import_contacts)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, equals, target = pair.partition("=")
        if not equals or not column.strip():
            raise InvalidInput(f"--map {pair!r}: write it as COLUMN=TARGET")
        mapping[column.strip()] = target.strip()
    return mapping


def _import_contacts(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    check_database(settings)
    try:
        text = arguments.file.read_bytes().decode("utf-8-sig")
    except OSError as error:
        print(f"kazi: cannot read {arguments.file}: {error.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"kazi: {arguments.file} is not UTF-8 text: save it as CSV (UTF-8)", file=sys.stderr)
        return 1
    db = make_engine(settings.database_url)
    try:
        workspace_id = workspace_id_for(db, arguments.workspace)
        if workspace_id is None:
            print(f"kazi: no workspace {arguments.workspace!r}; load it first", file=sys.stderr)
            return 1
        configs = ConfigDirectory(settings.config_dir)
        with unit_of_work(db, workspace_id) as session:
            rules = rules_in_force(session, configs, workspace_id)
            fields, region = list_settings(rules.config if rules else None)
            plan, result = import_contact_file(
                session,
                workspace_id,
                text,
                filename=arguments.file.name,
                fields=fields,
                default_region=arguments.region or region,
                mapping=_mapping(arguments.map),
                now=SystemClock().now(),
                write=not arguments.check,
            )
    except InvalidInput as refused:
        print(f"kazi: {refused}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    for problem in plan.problems:
        print(f"kazi: {problem}", file=sys.stderr)
    for row_error in plan.errors[:SHOWN_ERRORS]:
        print(f"{arguments.file}:{row_error.line}: {row_error.message}", file=sys.stderr)
    if len(plan.errors) > SHOWN_ERRORS:
        print(f"... and {len(plan.errors) - SHOWN_ERRORS} more rows with errors", file=sys.stderr)
    if plan.problems:
        print("nothing imported: fix the mapping (--map COLUMN=TARGET)", file=sys.stderr)
        return 1
    if result is None:
        print(f"{len(plan.rows)} rows ready, {len(plan.errors)} with errors; nothing written")
        return 0
    print(
        f"{result.created} contacts created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.tags_added} tags added, "
        f"{result.opted_in} opted in, {len(result.errors)} rows skipped for errors"
        + (f", {result.kept_opted_out} kept opted out" if result.kept_opted_out else "")
    )
    return 0
