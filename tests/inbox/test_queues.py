"""Queues: who sees what in which order, counts that match the lists, filters, search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, literal_column, select, text

from engine.db import unit_of_work, workspace_session
from engine.inbox import queues
from engine.inbox.queues import (
    MESSAGE_WORDS,
    RESOLVED,
    Queue,
    QueueFilters,
    count_label,
    list_queue,
    queue_counts,
    search_words,
    tags_in_use,
)
from engine.inbox.work import add_tag, snooze
from engine.models import Contact, Conversation, Identity, Message
from tests.conftest import BACKEND
from tests.inbox.seed import NOW, World, desk, make_world


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
        snooze(desk(session), world.principal("manager"), later, NOW + timedelta(hours=2), NOW)

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
        snooze(desk(session), world.principal("agent"), later, NOW + timedelta(minutes=30), NOW)
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
        add_tag(desk(session), world.principal("manager"), new, "VIP ", NOW)
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
    assert ids(world, Queue.ALL, search="NA HASS") == [amina]  # any part of a name
    assert ids(world, Queue.ALL, search="0722 111") == []  # not digits of a stored number run
    assert ids(world, Queue.ALL, search="722111") == [amina]
    assert ids(world, Queue.ALL, search="+254 722-111") == [amina]
    assert ids(world, Queue.ALL, search="samsung") == [amina]
    assert ids(world, Queue.ALL, search="Samsung A1") == [amina]  # still typing
    assert ids(world, Queue.ALL, search="100%") == [otieno]
    # LIKE wildcards typed by a person are literal characters.
    assert ids(world, Queue.ALL, search="5%") == []
    assert ids(world, Queue.ALL, search="a_b") == []
    assert ids(world, Queue.ALL, search="Amina_") == []
    # Search keeps to the queue it is typed in.
    assert ids(world, Queue.RESOLVED, search="amina") == []


if BACKEND == "postgres":

    def test_search_on_postgresql_matches_words_not_fragments(world: World) -> None:
        paid = world.conversation("Faith", texts=("Nimetuma pesa kwa M-Pesa, code SGH7K2",))
        shirt = world.conversation("Otieno", texts=("100% cotton_shirt",))
        assert ids(world, Queue.ALL, search="nimetuma") == [paid]
        assert ids(world, Queue.ALL, search="NIMET") == [paid]  # the last word as a prefix
        assert ids(world, Queue.ALL, search="pesa nimetuma") == [paid]  # any order
        assert ids(world, Queue.ALL, search="m-pesa sgh7k2") == [paid]
        assert ids(world, Queue.ALL, search="etuma") == []  # not a word's start
        assert ids(world, Queue.ALL, search="nim pesa") == []  # only the last word is a prefix
        assert ids(world, Queue.ALL, search="pesa shirt") == []  # every word, same conversation
        assert ids(world, Queue.ALL, search="cotton shirt") == [shirt]
        assert ids(world, Queue.ALL, search="n_shirt") == []  # "n" is no word of it


if BACKEND == "sqlite":

    def test_search_on_sqlite_matches_text_as_typed(world: World) -> None:
        paid = world.conversation("Faith", texts=("Nimetuma pesa kwa M-Pesa",))
        shirt = world.conversation("Otieno", texts=("100% cotton_shirt",))
        assert ids(world, Queue.ALL, search="nimetuma") == [paid]
        assert ids(world, Queue.ALL, search="etuma pe") == [paid]
        assert ids(world, Queue.ALL, search="n_shirt") == [shirt]
        assert ids(world, Queue.ALL, search="pesa nimetuma") == [paid]  # every word, any order
        assert ids(world, Queue.ALL, search="pesa shirt") == []  # in one message


HOSTILE = (
    "'",
    "''",
    "\\",
    "\\'",
    "&|!:*()",
    "a & | b",
    "!!samsung",
    "(samsung",
    "samsung:*",
    "'samsung'",
    "sam' & 'sung",
    "<-> samsung",
    "'; DROP TABLE messages; --",
    "%",
    "_",
    "x" * 5_000,
    "samsung " * 400,
    "\x00\u200b",
)


def test_hostile_search_text_is_only_text(world: World) -> None:
    amina = world.conversation("Amina", texts=("Je, mna Samsung A15?",))
    postgresql = world.db.dialect.name == "postgresql"
    for typed in HOSTILE:
        found = ids(world, Queue.ALL, search=typed)  # never a syntax error
        words = search_words(typed)
        assert words is None or all(ch.isalnum() or ch in "' &:*" for ch in words), typed
        if postgresql and "samsung" in typed and "sam'" not in typed:
            # Operators are dropped and the words are still searched.
            assert found == [amina], typed
        elif "samsung" not in typed:
            assert found == [], typed
    assert ids(world, Queue.ALL, search="Je, mna 'Samsung'") == ([amina] if postgresql else [])


def test_search_words_quotes_each_word_and_drops_operators() -> None:
    assert search_words("Je, mna Samsung A15?") == "'je' & 'mna' & 'samsung' & 'a15':*"
    assert search_words("  M-Pesa!") == "'m' & 'pesa':*"
    assert search_words("Habari yako, Wanjirũ") == "'habari' & 'yako' & 'wanjirũ':*"
    for hostile in ("&|!:*()", "'", "\\", "<->", "", "   "):
        assert search_words(hostile) is None
    many = search_words(" ".join(f"w{n}" for n in range(50)))
    assert many is not None and many.count("&") == 7  # eight words at most
    long = search_words("y" * 5_000)
    assert long is not None and len(long) < 120


if BACKEND == "postgres":

    def test_search_uses_the_indexes_on_postgresql(world: World) -> None:
        """The query's expressions must stay the ones migration 0010 indexes; with
        sequential scans off, PostgreSQL shows whether it can use them."""
        world.conversation("Amina", phone="+254722111333", texts=("Je, mna Samsung A15?",))
        said = MESSAGE_WORDS.bool_op("@@")(func.to_tsquery(literal_column("'simple'"), "samsung:*"))
        checks = {
            "ix_messages_body_words": select(Message.id).where(said),
            "ix_contacts_name_trigrams": select(Contact.id).where(Contact.name.ilike("%amin%")),
            "ix_identities_address_trigrams": select(Identity.id).where(
                Identity.address.like("%722111%")
            ),
            "ix_conversations_resolved_recent": select(Conversation.id)
            .where(RESOLVED)
            .order_by(Conversation.resolved_at.desc())
            .limit(5),
        }
        with world.db.connect() as connection, connection.begin():
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            for index, statement in checks.items():
                sql = statement.compile(world.db, compile_kwargs={"literal_binds": True})
                plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
                assert index in plan, plan


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


def test_the_resolved_count_stops_at_its_cap(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        world.conversation(f"Done {n}", status="resolved")
    make_world(world.db).conversation("Another shop's", status="resolved")

    def resolved() -> int:
        with workspace_session(world.db, world.workspace_id) as session:
            return queue_counts(session, world.principal("agent"), NOW)[Queue.RESOLVED]

    assert resolved() == 3  # exact below the cap, and only this workspace's
    monkeypatch.setattr(queues, "RESOLVED_COUNT_CAP", 2)
    assert resolved() == 2
    assert count_label(Queue.RESOLVED, 2) == "2+"
    assert count_label(Queue.RESOLVED, 1) == "1"
    assert count_label(Queue.ALL, 5) == "5"  # live queues are always exact


def test_the_tag_filter_offers_each_tag_in_use_once_in_this_workspace_only(
    world: World,
) -> None:
    agent = world.principal("agent")
    first, second = world.conversation("Tags A"), world.conversation("Tags B")
    with unit_of_work(world.db, world.workspace_id) as session:
        for conversation, tag in [
            (first, "vip"),
            (second, "vip"),
            (second, "b2b"),
            (first, "lead"),
        ]:
            add_tag(desk(session), agent, conversation, tag, NOW)
    other = make_world(world.db)
    with unit_of_work(other.db, other.workspace_id) as session:
        add_tag(
            desk(session), other.principal("agent"), other.conversation("Theirs"), "secret", NOW
        )
    with workspace_session(world.db, world.workspace_id) as session:
        assert tags_in_use(session) == ["b2b", "lead", "vip"]
    with workspace_session(world.db, make_world(world.db).workspace_id) as session:
        assert tags_in_use(session) == []
