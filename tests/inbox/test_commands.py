"""`kazi token ...` and `kazi teammate ...` against the test database."""

from __future__ import annotations

import argparse
import io

import pytest

from engine.auth import Role, authenticate_token, sign_in
from engine.auth.passwords_admin import UnknownTeammate, issue_password
from tests.inbox.seed import NOW, World
from ui.commands import tokens


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kazi")
    tokens.register(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args(argv)
    return int(arguments.handler(arguments))


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: object) -> None:
    monkeypatch.setenv("KAZI_DATABASE_URL", database_url)
    monkeypatch.setenv("KAZI_VAR_DIR", str(tmp_path))


def test_token_create_prints_a_working_token_of_that_role(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["token", "create", "--workspace", world.slug, "--role", "agent"]) == 0
    token = capsys.readouterr().out.strip()
    principal = authenticate_token(world.db, token, NOW)
    assert principal is not None and principal.role == Role.AGENT
    assert principal.workspace_id == world.workspace_id
    assert principal.token_id is not None
    assert run(["token", "revoke", "--workspace", world.slug, "--id", str(principal.token_id)]) == 0
    assert authenticate_token(world.db, token, NOW) is None


def test_unknown_workspace_and_role_are_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["token", "create", "--workspace", "nowhere", "--role", "admin"]) == 1
    assert "no workspace 'nowhere'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["token", "create", "--workspace", world.slug, "--role", "owner"])


def test_teammate_password_generated_or_from_stdin(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["teammate", "password", "--workspace", world.slug, "--handle", "kevin"]) == 0
    generated = capsys.readouterr().out.strip()
    assert len(generated) == 23
    ok = sign_in(
        world.db,
        workspace_slug=world.slug,
        login="kevin",
        password=generated,
        client="cli",
        now=NOW,
    )
    assert ok.ok
    monkeypatch.setattr("sys.stdin", io.StringIO("chosen by kevin\n"))
    assert (
        run(["teammate", "password", "--workspace", world.slug, "--handle", "kevin", "--stdin"])
        == 0
    )
    assert capsys.readouterr().out == ""
    assert sign_in(
        world.db,
        workspace_slug=world.slug,
        login="kevin",
        password="chosen by kevin",
        client="cli",
        now=NOW,
    ).ok
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        run(["teammate", "password", "--workspace", world.slug, "--handle", "kevin", "--stdin"])
        == 1
    )
    assert run(["teammate", "password", "--workspace", world.slug, "--handle", "ghost"]) == 1


def test_teammate_signout_ends_sessions(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    sign_in(
        world.db,
        workspace_slug=world.slug,
        login="agent",
        password="correct horse battery",
        client="c",
        now=NOW,
    )
    assert run(["teammate", "signout", "--workspace", world.slug, "--handle", "agent"]) == 0
    assert "1 session(s) of agent ended" in capsys.readouterr().out


def test_issue_password_gives_demo_credentials_that_work(world: World) -> None:
    password = issue_password(world.db, workspace_slug=world.slug, handle="manager", now=NOW)
    assert sign_in(
        world.db,
        workspace_slug=world.slug,
        login="manager",
        password=password,
        client="demo",
        now=NOW,
    ).ok
    with pytest.raises(UnknownTeammate):
        issue_password(world.db, workspace_slug=world.slug, handle="ghost", now=NOW)
