"""Sign-in: Argon2id, server-side sessions, rotation, ending, throttling, API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.auth import (
    Role,
    authenticate_session,
    authenticate_token,
    create_api_token,
    end_session,
    revoke_api_token,
    sign_in,
)
from engine.auth.passwords import WeakPassword, hash_password, verify_password
from engine.auth.passwords_admin import change_own_password, end_sessions_of, set_password
from engine.auth.policy import Forbidden
from engine.auth.throttle import MAX_FAILURES_PER_LOGIN
from engine.db import unit_of_work, workspace_session
from engine.models import Teammate, WebSession
from tests.inbox.seed import NOW, PASSWORD, World, make_world


def signed_in(world: World, login: str = "agent", password: str = PASSWORD, **kw: object) -> str:
    result = sign_in(
        world.db,
        workspace_slug=world.slug,
        login=login,
        password=password,
        client=str(kw.get("client", "10.0.0.1")),
        now=kw.get("now", NOW),  # type: ignore[arg-type]
        previous_cookie=kw.get("previous"),  # type: ignore[arg-type]
    )
    assert result.ok, result.error
    assert result.cookie is not None
    return result.cookie


def test_hashes_are_argon2id_and_verify() -> None:
    stored = hash_password("a long enough secret")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a long enough secret")
    assert not verify_password(stored, "a long enough secreT")
    assert not verify_password(None, "anything at all")
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_sign_in_by_handle_or_email_gives_a_working_session(world: World) -> None:
    for login in ("agent", "AGENT", f"agent@{world.slug}.test"):
        cookie = signed_in(world, login)
        principal = authenticate_session(world.db, cookie, NOW + timedelta(minutes=1))
        assert principal is not None
        assert principal.teammate_id == world.people["agent"]
        assert principal.role == Role.AGENT
        assert principal.team_ids == {world.teams["sales"]}


def test_wrong_password_unknown_login_and_unknown_workspace_say_the_same(world: World) -> None:
    results = [
        sign_in(
            world.db,
            workspace_slug=world.slug,
            login="agent",
            password="wrong password!",
            client="c",
            now=NOW,
        ),
        sign_in(
            world.db,
            workspace_slug=world.slug,
            login="nobody",
            password=PASSWORD,
            client="c",
            now=NOW,
        ),
        sign_in(
            world.db,
            workspace_slug="no-such-shop",
            login="agent",
            password=PASSWORD,
            client="c",
            now=NOW,
        ),
    ]
    assert {r.error for r in results} == {"That handle or password is not right."}
    assert not any(r.ok for r in results)


def test_a_teammate_without_a_password_cannot_sign_in(world: World) -> None:
    with unit_of_work(world.db, world.workspace_id) as session:
        session.get(Teammate, world.people["kevin"]).password_hash = None  # type: ignore[union-attr]
    result = sign_in(
        world.db, workspace_slug=world.slug, login="kevin", password=PASSWORD, client="c", now=NOW
    )
    assert not result.ok


def test_sign_in_rotates_the_session(world: World) -> None:
    first = signed_in(world)
    second = signed_in(world, previous=first)
    assert second != first
    assert authenticate_session(world.db, first, NOW) is None
    assert authenticate_session(world.db, second, NOW) is not None


def test_sessions_end_at_sign_out_expiry_idleness(world: World) -> None:
    cookie = signed_in(world)
    assert authenticate_session(world.db, cookie, NOW + timedelta(hours=11)) is not None
    assert authenticate_session(world.db, cookie, NOW + timedelta(hours=23, minutes=1)) is None
    other = signed_in(world)
    assert end_session(world.db, other, NOW, "signed out")
    assert authenticate_session(world.db, other, NOW) is None
    assert authenticate_session(world.db, "garbage", NOW) is None
    assert authenticate_session(world.db, None, NOW) is None


def test_password_change_ends_the_other_sessions_but_not_this_one(world: World) -> None:
    here, elsewhere = signed_in(world), signed_in(world, client="phone")
    principal = authenticate_session(world.db, here, NOW)
    assert principal is not None
    with unit_of_work(world.db, world.workspace_id) as session:
        ended = change_own_password(session, principal, PASSWORD, "a brand new password", NOW)
    assert ended == 1
    assert authenticate_session(world.db, here, NOW) is not None
    assert authenticate_session(world.db, elsewhere, NOW) is None
    signed_in(world, password="a brand new password")


def test_set_password_from_the_cli_ends_every_session(world: World) -> None:
    cookie = signed_in(world)
    with unit_of_work(world.db, world.workspace_id) as session:
        teammate = session.get(Teammate, world.people["agent"])
        assert teammate is not None
        assert set_password(session, teammate, "another good password", NOW) == 1
    assert authenticate_session(world.db, cookie, NOW) is None


def test_an_admin_ends_a_teammates_sessions_and_an_agent_cannot(world: World) -> None:
    cookie = signed_in(world)
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(Forbidden):
        end_sessions_of(session, world.principal("other"), world.people["agent"], NOW)
    with unit_of_work(world.db, world.workspace_id) as session:
        assert end_sessions_of(session, world.principal("boss"), world.people["agent"], NOW) == 1
    assert authenticate_session(world.db, cookie, NOW) is None
    with workspace_session(world.db, world.workspace_id) as session:
        reasons = set(session.scalars(select(WebSession.ended_reason)))
    assert "ended by an admin" in reasons


def test_sign_in_is_throttled_per_login_across_sessions(world: World) -> None:
    for _ in range(MAX_FAILURES_PER_LOGIN):
        sign_in(
            world.db,
            workspace_slug=world.slug,
            login="manager",
            password="nope nope nope",
            client="10.1.1.1",
            now=NOW,
        )
    # Even the right password is refused now, from another address too.
    blocked = sign_in(
        world.db,
        workspace_slug=world.slug,
        login="manager",
        password=PASSWORD,
        client="10.9.9.9",
        now=NOW + timedelta(minutes=1),
    )
    assert not blocked.ok
    assert blocked.error is not None and "Too many failed tries" in blocked.error
    later = sign_in(
        world.db,
        workspace_slug=world.slug,
        login="manager",
        password=PASSWORD,
        client="10.9.9.9",
        now=NOW + timedelta(minutes=16),
    )
    assert later.ok


def test_a_cookie_naming_another_workspace_opens_nothing(db: object, world: World) -> None:
    cookie = signed_in(world)
    other = make_world(world.db)
    _, _, secret = cookie.partition(".")
    forged = f"{other.workspace_id}.{secret}"
    assert authenticate_session(world.db, forged, NOW) is None


def test_api_tokens_act_with_their_role_until_revoked(world: World) -> None:
    token = create_api_token(
        world.db, workspace_id=world.workspace_id, role=Role.MANAGER, label="erp", now=NOW
    )
    principal = authenticate_token(world.db, token, NOW)
    assert principal is not None
    assert (principal.role, principal.teammate_id, principal.workspace_id) == (
        Role.MANAGER,
        None,
        world.workspace_id,
    )
    assert authenticate_token(world.db, token + "x", NOW) is None
    assert authenticate_token(world.db, "Bearer nonsense", NOW) is None
    assert principal.token_id is not None
    assert revoke_api_token(
        world.db, workspace_id=world.workspace_id, token_id=principal.token_id, now=NOW
    )
    assert authenticate_token(world.db, token, NOW) is None
