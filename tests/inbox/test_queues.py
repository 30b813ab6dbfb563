"""Queues: who sees what in which order, counts that match the lists, filters, search."""

from __future__ import annotations

from datetime import timedelta

from engine.db import unit_of_work, workspace_session
from engine.inbox.queues import Queue, QueueFilters, list_queue, queue_counts
from engine.inbox.work import add_tag, snooze
from tests.inbox.seed import NOW, World


def ids(world: World, queue: Queue, handle: str = "agent", **filters: object) -> list[int]:
    with workspace_session(world.db, world.workspace_id) as session:
        page = list_queue(session, world.principal(handle), queue, NOW, QueueFilters(**filters))  # type: ignore[arg-type]
        return [row.conversation_id for row in page.rows]


def test_each_queue_holds_its_conversations_longest_waiting_first(world: World) -> None:
    old = world.conversation("Old", last_at=NOW - timedelta(hours=3))
    new = world.conversation("New", last_at=NOW - timedelta(minutes=1))
    mine = world.conversation("Mine", owner="agent", last_at=NOW - timedelta(hours=1))
    teams = world.conversation(
        "Team", owner="other", team="sales", last_at=NOW - timedelta(hours=2)
    )
    waiting = world.conversation("Quiet", owner="agent", status="waiting_on_customer")
    done = world.conversation("Done", status="resolved")
    later = world.conversation("Later", last_at=NOW - timedelta(hours=5))
    with unit_of_work(world.db, world.workspace_id) as session:
        snooze(session, world.principal("manager"), later, NOW + timedelta(hours=2), NOW)

    assert ids(world, Queue.UNASSIGNED) == [old, new]
    assert ids(world, Queue.MINE) == [mine, waiting]
    assert ids(world, Queue.TEAM) == [teams]
    assert ids(world, Queue.ALL) == [old, teams, mine, waiting, new]
    assert ids(world, Queue.WAITING_ON_US) == [old, teams, mine, new]
    assert ids(world, Queue.WAITING_ON_CUSTOMER) == [waiting]
    assert ids(world, Queue.SNOOZED) == [later]
    assert ids(world, Queue.RESOLVED) == [done]
    assert ids(world, Queue.MINE, handle="kevin") == []
    assert ids(world, Queue.TEAM, handle="manager") == []  # in no team

    with workspace_session(world.db, world.workspace_id) as session:
        counts = queue_counts(session, world.principal("agent"), NOW)
    assert counts == {queue: len(ids(world, queue)) for queue in Queue}


def test_a_snooze_whose_time_passed_is_back_in_the_queues(world: World) -> None:
    later = world.conversation("Later")
    with unit_of_work(world.db, world.workspace_id) as session:
        snooze(session, world.principal("agent"), later, NOW + timedelta(minutes=30), NOW)
    assert later not in ids(world, Queue.UNASSIGNED)
    with workspace_session(world.db, world.workspace_id) as session:
        page = list_queue(
            session, world.principal("agent"), Queue.UNASSIGNED, NOW + timedelta(hours=1)
        )
    assert [row.conversation_id for row in page.rows] == [later]


def test_filters_by_stage_tag_and_owner(world: World) -> None:
    quoted = world.conversation("Quoted", stage="quoted", owner="agent")
    new = world.conversation("New", stage="new")
    with unit_of_work(world.db, world.workspace_id) as session:
        add_tag(session, world.principal("manager"), new, "VIP ", NOW)
    assert ids(world, Queue.ALL, stage="quoted") == [quoted]
    assert ids(world, Queue.ALL, tag="vip") == [new]
    assert ids(world, Queue.ALL, owner_id=world.people["agent"]) == [quoted]
    assert ids(world, Queue.ALL, unowned_only=True) == [new]


def test_search_by_name_number_and_message_text(world: World) -> None:
    amina = world.conversation(
        "Amina Hassan", phone="+254722111333", texts=("Je, mna Samsung A15?",)
    )
    otieno = world.conversation("Otieno", phone="+254733444555", texts=("100% cotton_shirt",))
    assert ids(world, Queue.ALL, search="amina") == [amina]
    assert ids(world, Queue.ALL, search="0722 111") == []  # not digits of a stored number run
    assert ids(world, Queue.ALL, search="722111") == [amina]
    assert ids(world, Queue.ALL, search="samsung") == [amina]
    # LIKE wildcards typed by a person are literal characters.
    assert ids(world, Queue.ALL, search="100%") == [otieno]
    assert ids(world, Queue.ALL, search="n_shirt") == [otieno]
    assert ids(world, Queue.ALL, search="5%") == []
    assert ids(world, Queue.ALL, search="a_b") == []


def test_rows_carry_what_a_glance_needs(world: World) -> None:
    conversation = world.conversation(
        "Faith", texts=("first", "latest words"), owner="other", team="sales", stage="new"
    )
    with workspace_session(world.db, world.workspace_id) as session:
        row = list_queue(session, world.principal("agent"), Queue.ALL, NOW).rows[0]
    assert row.conversation_id == conversation
    assert (row.contact_name, row.owner_name, row.team_name, row.stage) == (
        "Faith",
        "Other",
        "Sales",
        "new",
    )
    assert row.last_message == "latest words"
    assert row.address is not None and row.address.startswith("+2547")
