"""`kazi token create|revoke` for API tokens, `kazi teammate password|signout` for people.

kazi token create --workspace retail --role manager --label erp
kazi teammate password --workspace retail --handle brian          # prints a new random one
echo 'a chosen password' | kazi teammate password --workspace retail --handle brian --stdin
kazi teammate signout --workspace retail --handle brian
"""

from __future__ import annotations

import argparse
import sys

from engine.auth import ROLE_NAMES, Role, create_api_token, revoke_api_token, workspace_id_for
from engine.auth.passwords import WeakPassword
from engine.auth.passwords_admin import (
    UnknownTeammate,
    find_teammate,
    generate_password,
    set_password,
)
from engine.auth.sessions import end_teammate_sessions
from engine.core.clock import SystemClock
from engine.db import make_engine, unit_of_work
from engine.settings import Settings
from engine.startup import check_database


def register(subparsers: argparse._SubParsersAction) -> None:
    token = subparsers.add_parser("token", help="create or revoke API tokens for scripts")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a Bearer token and print it once")
    create.add_argument("--workspace", required=True, help="the workspace slug, e.g. retail")
    create.add_argument("--role", required=True, choices=ROLE_NAMES)
    create.add_argument("--label", default="script", help="what the token is for")
    create.set_defaults(handler=_create_token)
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("--workspace", required=True)
    revoke.add_argument("--id", required=True, type=int, dest="token_id")
    revoke.set_defaults(handler=_revoke_token)

    teammate = subparsers.add_parser("teammate", help="set a teammate's password, sign them out")
    teammate_commands = teammate.add_subparsers(
        dest="teammate_command", required=True, metavar="ACTION"
    )
    password = teammate_commands.add_parser(
        "password", help="set a password (random and printed, or read from stdin)"
    )
    password.add_argument("--workspace", required=True)
    password.add_argument("--handle", required=True)
    password.add_argument("--stdin", action="store_true", help="read the password from stdin")
    password.set_defaults(handler=_set_password)
    signout = teammate_commands.add_parser("signout", help="end every session of a teammate")
    signout.add_argument("--workspace", required=True)
    signout.add_argument("--handle", required=True)
    signout.set_defaults(handler=_sign_out)


def _workspace(settings: Settings, slug: str) -> int | None:
    check_database(settings)
    db = make_engine(settings.database_url)
    try:
        workspace_id = workspace_id_for(db, slug)
    finally:
        db.dispose()
    if workspace_id is None:
        print(f"kazi: no workspace {slug!r}; load it first with `kazi load`", file=sys.stderr)
    return workspace_id


def _create_token(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workspace_id = _workspace(settings, arguments.workspace)
    if workspace_id is None:
        return 1
    db = make_engine(settings.database_url)
    try:
        token = create_api_token(
            db,
            workspace_id=workspace_id,
            role=Role.parse(arguments.role),
            label=arguments.label,
            now=SystemClock().now(),
        )
    finally:
        db.dispose()
    print(token)
    print(
        f"(a {arguments.role} token for {arguments.workspace}; send it as "
        "'Authorization: Bearer <token>'. It is not shown again.)",
        file=sys.stderr,
    )
    return 0


def _revoke_token(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workspace_id = _workspace(settings, arguments.workspace)
    if workspace_id is None:
        return 1
    db = make_engine(settings.database_url)
    try:
        revoked = revoke_api_token(
            db, workspace_id=workspace_id, token_id=arguments.token_id, now=SystemClock().now()
        )
    finally:
        db.dispose()
    if not revoked:
        print(f"kazi: no live token {arguments.token_id} in {arguments.workspace}", file=sys.stderr)
        return 1
    print(f"token {arguments.token_id} revoked")
    return 0


def _set_password(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workspace_id = _workspace(settings, arguments.workspace)
    if workspace_id is None:
        return 1
    chosen = sys.stdin.readline().rstrip("\n") if arguments.stdin else generate_password()
    db = make_engine(settings.database_url)
    try:
        with unit_of_work(db, workspace_id) as session:
            teammate = find_teammate(session, arguments.handle)
            ended = set_password(session, teammate, chosen, SystemClock().now())
    except (UnknownTeammate, WeakPassword) as refused:
        print(f"kazi: {refused}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if not arguments.stdin:
        print(chosen)
    print(
        f"password set for {arguments.handle} in {arguments.workspace}; "
        f"{ended} session(s) signed out",
        file=sys.stderr,
    )
    return 0


def _sign_out(arguments: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workspace_id = _workspace(settings, arguments.workspace)
    if workspace_id is None:
        return 1
    db = make_engine(settings.database_url)
    try:
        with unit_of_work(db, workspace_id) as session:
            teammate = find_teammate(session, arguments.handle)
            ended = end_teammate_sessions(
                session, teammate.id, SystemClock().now(), "ended by an admin"
            )
    except UnknownTeammate as refused:
        print(f"kazi: {refused}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"{ended} session(s) of {arguments.handle} ended")
    return 0
