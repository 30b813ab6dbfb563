"""Exactly one owner: claims race cleanly, assignments need the right role and a fresh view."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.auth.policy import Forbidden
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.ownership import assign, claim
from engine.models import AuditLog, Conversation, Note
from tests.inbox.seed import NOW, World, desk, make_world


def owner_of(world: World, conversation_id: int) -> int | None:
    with workspace_session(world.db, world.workspace_id) as session:
        return session.scalar(
            select(Conversation.owner_id).where(Conversation.id == conversation_id)
        )


def test_claim_takes_an_unowned_conversation_and_records_it(world: World) -> None:
    conversation = world.conversation("Wanjiku")
    with unit_of_work(world.db, world.workspace_id) as session:
        claim(desk(session), world.principal("agent"), conversation, NOW)
    assert owner_of(world, conversation) == world.people["agent"]
    with workspace_session(world.db, world.workspace_id) as session:
        actions = list(
            session.scalars(select(AuditLog.action).where(AuditLog.subject_id == conversation))
        )
    assert actions == ["claim"]


def test_the_second_claim_loses_and_is_told_who_won(world: World) -> None:
    conversation = world.conversation("Wanjiku")
    with unit_of_work(world.db, world.workspace_id) as session:
        claim(desk(session), world.principal("agent"), conversation, NOW)
    with (
        unit_of_work(world.db, world.workspace_id) as session,
        pytest.raises(Conflict, match="Agent"),
    ):
        claim(desk(session), world.principal("other"), conversation, NOW)
    assert owner_of(world, conversation) == world.people["agent"]


def test_simultaneous_claims_leave_exactly_one_owner(world: World) -> None:
    """Two teammates claim in two transactions at the same moment."""
    conversation = world.conversation("Race")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(handle: str) -> None:
        barrier.wait()
        try:
            with unit_of_work(world.db, world.workspace_id) as session:
                claim(desk(session), world.principal(handle), conversation, NOW)
            outcomes[handle] = "won"
        except Conflict:
            outcomes[handle] = "lost"

    threads = [threading.Thread(target=attempt, args=(h,)) for h in ("agent", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(h for h, outcome in outcomes.items() if outcome == "won")
    assert owner_of(world, conversation) == world.people[winner]


def test_agents_transfer_their_own_and_managers_assign_any(world: World) -> None:
    conversation = world.conversation("Transfer", owner="agent")
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(Forbidden):
        assign(
            desk(session),
            world.principal("other"),
            conversation,
            expected_owner_id=world.people["agent"],
            teammate_id=world.people["other"],
            now=NOW,
        )
    with unit_of_work(world.db, world.workspace_id) as session:
        assign(
            desk(session),
            world.principal("agent"),
            conversation,
            expected_owner_id=world.people["agent"],
            teammate_id=world.people["kevin"],
            team_id=world.teams["fulfilment"],
            note="Paid, please pack",
            now=NOW,
        )
    with workspace_session(world.db, world.workspace_id) as session:
        row = session.get(Conversation, conversation)
        assert row is not None
        assert (row.owner_id, row.team_id) == (world.people["kevin"], world.teams["fulfilment"])
        assert session.scalars(
            select(Note.body).where(Note.conversation_id == conversation)
        ).all() == ["Paid, please pack"]
    with unit_of_work(world.db, world.workspace_id) as session:
        assign(
            desk(session),
            world.principal("manager"),
            conversation,
            expected_owner_id=world.people["kevin"],
            teammate_id=None,
            now=NOW,
        )
    assert owner_of(world, conversation) is None


def test_an_assignment_made_on_a_stale_view_is_refused(world: World) -> None:
    conversation = world.conversation("Stale", owner="agent")
    with (
        unit_of_work(world.db, world.workspace_id) as session,
        pytest.raises(Conflict, match="Agent owns"),
    ):
        assign(
            desk(session),
            world.principal("manager"),
            conversation,
            expected_owner_id=None,
            teammate_id=world.people["other"],
            now=NOW,
        )
    assert owner_of(world, conversation) == world.people["agent"]


def test_assigning_to_someone_outside_the_workspace_is_not_found(world: World) -> None:
    stranger = make_world(world.db).people["agent"]
    conversation = world.conversation("Stranger")
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(NotFound):
        assign(
            desk(session),
            world.principal("manager"),
            conversation,
            expected_owner_id=None,
            teammate_id=stranger,
            now=NOW,
        )
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(InvalidInput):
        assign(
            desk(session),
            world.principal("manager"),
            conversation,
            expected_owner_id=None,
            note="to nobody?",
            now=NOW,
        )


def test_another_workspaces_conversation_is_not_found(world: World) -> None:
    theirs = make_world(world.db).conversation("Theirs")
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(NotFound):
        claim(desk(session), world.principal("agent"), theirs, NOW)
