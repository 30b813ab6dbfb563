"""Routing on the database: who set themselves away (stored on the teammate's row) and
who is off shift (workspace.yaml) get no new conversations; when nobody is on, the
conversation waits in the rule's team queue and the audit says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.auth import Principal, Role
from engine.db import unit_of_work, workspace_session
from engine.inbox.availability import set_away, team_availability
from engine.inbox.errors import Forbidden
from engine.models import AuditLog, Conversation, Team, Teammate
from tests.automation.test_inbound_rules import Shop


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    config_dir, slug = retail_copy
    # faith works weekends only: off shift on a Tuesday morning.
    workspace = config_dir / slug / "workspace.yaml"
    text = workspace.read_text()
    anchor = "    languages: [en, sw, ki]\n"
    assert text.count(anchor) == 1
    workspace.write_text(
        text.replace(anchor, anchor + "    shifts:\n      saturday: 09:00-17:00\n")
    )
    return Shop(db, config_dir, slug)


def _principal(shop: Shop, handle: str, role: Role) -> Principal:
    with workspace_session(shop.db, shop.workspace_id) as session:
        teammate_id = session.scalars(select(Teammate.id).where(Teammate.handle == handle)).one()
    return Principal(shop.workspace_id, role, handle.capitalize(), teammate_id=teammate_id)


def _away(shop: Shop, by: Principal, away: bool, handle: str | None = None) -> None:
    with unit_of_work(shop.db, shop.workspace_id) as session:
        set_away(session, by, away, shop.clock.now(), handle=handle)


def _owners(shop: Shop) -> list[str | None]:
    with workspace_session(shop.db, shop.workspace_id) as session:
        handles = dict(session.execute(select(Teammate.id, Teammate.handle)).tuples().all())
        return [
            handles.get(c.owner_id) if c.owner_id else None
            for c in session.scalars(select(Conversation).order_by(Conversation.id))
        ]


def test_new_conversations_go_only_to_who_is_available_and_on_shift(shop: Shop) -> None:
    brian = _principal(shop, "brian", Role.AGENT)
    _away(shop, brian, True)
    for n in range(3):
        shop.customer_says(f"25472230000{n}", "Hello, do you sell fridges?", name=f"C{n}")
    # brian is away and faith is off shift: only wanjiru is working in sales.
    assert _owners(shop) == ["wanjiru", "wanjiru", "wanjiru"]

    _away(shop, brian, False)
    shop.customer_says("254722300009", "Hello, fridges?", name="C9")
    assert _owners(shop)[-1] == "brian"  # back, and longest since a new conversation


def test_when_nobody_is_on_it_waits_in_the_team_queue_and_the_audit_says_why(
    shop: Shop,
) -> None:
    boss = _principal(shop, "wanjiru", Role.MANAGER)
    _away(shop, boss, True)  # herself
    _away(shop, boss, True, handle="brian")  # a manager sets someone else away
    shop.customer_says("254722300100", "Hello, do you sell fridges?")
    with workspace_session(shop.db, shop.workspace_id) as session:
        conversation = session.scalars(select(Conversation)).one()
        team = session.get(Team, conversation.team_id)
        assert conversation.owner_id is None and team is not None and team.handle == "sales"
        route = session.scalars(select(AuditLog).where(AuditLog.action == "route")).one()
        assert "away: wanjiru, brian" in route.detail["why"]
        assert "off shift: faith" in route.detail["why"]
        changes = session.scalars(
            select(AuditLog.action).where(AuditLog.subject_kind == "teammate")
        ).all()
        assert sorted(changes) == ["set_away", "set_away"]
        away = {a.handle: a.away for a in team_availability(session)}
    assert away["wanjiru"] and away["brian"] and not away["faith"]


def test_an_agent_may_not_set_a_colleague_away(shop: Shop) -> None:
    brian = _principal(shop, "brian", Role.AGENT)
    with pytest.raises(Forbidden):
        _away(shop, brian, True, handle="wanjiru")
    with workspace_session(shop.db, shop.workspace_id) as session:
        wanjiru = session.scalars(select(Teammate).where(Teammate.handle == "wanjiru")).one()
        assert not wanjiru.away
