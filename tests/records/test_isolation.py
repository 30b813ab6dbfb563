"""Workspace isolation across every model (DESIGN: no query may cross workspaces).

The models under test come from the mapper registry, not from a list here, so a
model added later is covered the day it is added (or tests/records/rows.py says
which of its columns it cannot fill).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, delete, func, insert, select, update
from sqlalchemy.orm import RelationshipProperty, Session, selectinload, sessionmaker
from sqlalchemy.orm.interfaces import MANYTOMANY, MANYTOONE, ONETOMANY

from engine.db import SessionFactory, system_session, unit_of_work, workspace_session
from engine.models import (
    Base,
    Contact,
    Conversation,
    CrossWorkspaceError,
    InboundEvent,
    Note,
    Teammate,
    UnscopedSessionError,
    Workspace,
    WorkspaceScoped,
)
from engine.models.scoping import bind_workspace
from tests.records.moments import NOW
from tests.records.rows import RowMaker, scoped_mappers, table_of

SCOPED = scoped_mappers()
RELATIONSHIPS = [(m, rel) for m in SCOPED for rel in m.relationships]


def new_workspace(db: Engine) -> int:
    with system_session(db) as session:
        workspace = Workspace(slug=f"iso-{uuid.uuid4().hex[:10]}", name="Isolation")
        session.add(workspace)
        session.commit()
        return workspace.id


@dataclass
class World:
    """Two workspaces, each with one row of every scoped model."""

    a: RowMaker
    b: RowMaker


@pytest.fixture(scope="module")
def world(db: Engine) -> Iterator[World]:
    world = World(a=RowMaker(db, new_workspace(db)), b=RowMaker(db, new_workspace(db)))
    for mapper in SCOPED:
        world.a.one(table_of(mapper))
        world.b.one(table_of(mapper))
    yield world


def test_every_table_has_a_model_and_every_model_a_workspace() -> None:
    mapped = {table_of(mapper) for mapper in Base.registry.mappers}
    assert set(Base.metadata.tables.values()) == mapped, "a table without a model escapes"
    unscoped = [
        mapper.class_.__name__
        for mapper in Base.registry.mappers
        if mapper.class_ is not Workspace and not issubclass(mapper.class_, WorkspaceScoped)
    ]
    assert unscoped == [], "every row belongs to one workspace: add the WorkspaceScoped mixin"
    assert len(SCOPED) == len(Base.registry.mappers) - 1


@pytest.mark.parametrize("mapper", SCOPED, ids=lambda m: m.class_.__name__)
def test_select_and_get_see_only_this_workspace(db: Engine, world: World, mapper: Any) -> None:
    model = mapper.class_
    table = table_of(mapper)
    mine, theirs = world.a.one(table), world.b.one(table)
    with workspace_session(db, world.a.workspace_id) as session:
        rows = session.scalars(select(model)).all()
        assert {row.workspace_id for row in rows} == {world.a.workspace_id}
        assert mine in {row.id for row in rows}
        assert theirs not in {row.id for row in rows}
        assert session.scalars(select(model.id).where(model.id == theirs)).all() == []
        count = session.scalar(select(func.count()).select_from(model))
        assert count == len(rows)
        assert session.get(model, theirs) is None
        assert session.get(model, mine) is not None


def _poison(world: World, parent: Any, rel: RelationshipProperty[Any]) -> tuple[int, int]:
    """Write a row the ORM would refuse, linking workspace B into A's view along
    `rel`; return (A's row to load, the id of B's row that must stay invisible)."""
    target = table_of(rel.mapper)
    if rel.direction is ONETOMANY:
        # A child in B that points at A's parent: A's collection must not show it.
        ((_, child_fk),) = list(rel.local_remote_pairs or ())
        owner = world.a.make(table_of(parent), fresh=True)
        return owner, world.b.make(target, fresh=True, **{child_fk.name: owner})
    if rel.direction is MANYTOONE:
        # A's own row that points at B's parent: the reference must load as None.
        ((local_fk, _),) = list(rel.local_remote_pairs or ())
        foreign = world.b.make(target, fresh=True)
        return world.a.make(table_of(parent), fresh=True, **{local_fk.name: foreign}), foreign
    assert rel.direction is MANYTOMANY and rel.secondary is not None
    # A link row in A between A's parent and B's target.
    owner = world.a.make(table_of(parent), fresh=True)
    foreign = world.b.make(target, fresh=True)
    overrides = {}
    for column in rel.secondary.columns:
        for key in column.foreign_keys:
            if key.column.table is target:
                overrides[column.name] = foreign
            elif key.column.table is table_of(parent):
                overrides[column.name] = owner
    world.a.make(cast(Table, rel.secondary), fresh=True, **overrides)
    return owner, foreign


def _related_ids(row: Any, rel: RelationshipProperty[Any]) -> list[tuple[int, int]]:
    loaded = getattr(row, rel.key)
    related = list(loaded) if rel.uselist else [loaded] if loaded is not None else []
    return [(item.id, item.workspace_id) for item in related]


@pytest.mark.parametrize(
    ("parent", "rel"),
    RELATIONSHIPS,
    ids=[f"{m.class_.__name__}.{rel.key}" for m, rel in RELATIONSHIPS],
)
@pytest.mark.parametrize("loading", ["lazy", "selectin"])
def test_relationship_loads_see_only_this_workspace(
    db: Engine, world: World, parent: Any, rel: RelationshipProperty[Any], loading: str
) -> None:
    row_id, invisible = _poison(world, parent, rel)
    model = parent.class_
    with workspace_session(db, world.a.workspace_id) as session:
        statement = select(model).where(model.id == row_id)
        if loading == "selectin":
            statement = statement.options(selectinload(getattr(model, rel.key)))
        row = session.scalars(statement).one()
        related = _related_ids(row, rel)
        assert invisible not in {item_id for item_id, _ in related}
        assert {workspace for _, workspace in related} <= {world.a.workspace_id}


COLLECTIONS = [(m, rel) for m, rel in RELATIONSHIPS if rel.direction is not MANYTOONE]


@pytest.mark.parametrize(
    ("parent", "rel"),
    COLLECTIONS,
    ids=[f"{m.class_.__name__}.{rel.key}" for m, rel in COLLECTIONS],
)
def test_collections_of_rows_made_in_this_session_stay_in_the_workspace(
    db: Engine, world: World, parent: Any, rel: RelationshipProperty[Any]
) -> None:
    """A row created here was never loaded by a filtered query, so its first
    collection load carries no inherited criteria: the session must add them."""
    model = parent.class_
    columns = world.a.values(table_of(parent), fresh=True)
    with workspace_session(db, world.a.workspace_id) as session:
        row = model(
            **{
                parent.get_property_by_column(table_of(parent).c[name]).key: value
                for name, value in columns.items()
            }
        )
        session.add(row)
        session.commit()
        target = table_of(rel.mapper)
        if rel.direction is ONETOMANY:
            ((_, child_fk),) = list(rel.local_remote_pairs or ())
            invisible = world.b.make(target, fresh=True, **{child_fk.name: row.id})
        else:
            assert rel.secondary is not None
            invisible = world.b.make(target, fresh=True)
            links = {}
            for column in rel.secondary.columns:
                for key in column.foreign_keys:
                    if key.column.table is target:
                        links[column.name] = invisible
                    elif key.column.table is table_of(parent):
                        links[column.name] = row.id
            world.a.make(cast(Table, rel.secondary), fresh=True, **links)
        related = _related_ids(row, rel)
        assert invisible not in {item_id for item_id, _ in related}
        assert {workspace for _, workspace in related} <= {world.a.workspace_id}


def test_bulk_update_and_delete_touch_only_this_workspace(db: Engine) -> None:
    a, b = RowMaker(db, new_workspace(db)), RowMaker(db, new_workspace(db))
    for mapper in SCOPED:
        a.one(table_of(mapper))
        b.one(table_of(mapper))
    with workspace_session(db, a.workspace_id) as session:
        session.execute(update(InboundEvent).values(last_error="touched"))
        for mapper in reversed(SCOPED):
            session.execute(delete(mapper.class_))
        session.commit()
    with system_session(db) as session:
        for mapper in SCOPED:
            model = mapper.class_
            owners = session.scalars(
                select(model.workspace_id).where(
                    model.workspace_id.in_([a.workspace_id, b.workspace_id])
                )
            ).all()
            assert set(owners) == {b.workspace_id}, model.__name__
        untouched = session.scalars(
            select(InboundEvent.last_error).where(InboundEvent.workspace_id == b.workspace_id)
        ).all()
        assert untouched == [None]


def test_a_workspace_session_sees_only_its_own_workspace(db: Engine, world: World) -> None:
    with workspace_session(db, world.a.workspace_id) as session:
        assert session.scalars(select(Workspace.id)).all() == [world.a.workspace_id]
        assert session.get(Workspace, world.b.workspace_id) is None


def test_new_rows_take_the_session_workspace(db: Engine) -> None:
    workspace_id = new_workspace(db)
    with workspace_session(db, workspace_id) as session:
        contact = Contact(name="Njeri")
        session.add(contact)
        session.commit()
        assert contact.workspace_id == workspace_id


def test_writes_into_another_workspace_refuse_to_flush(db: Engine, world: World) -> None:
    a, b = world.a.workspace_id, world.b.workspace_id
    b_contact = world.b.one(table_of(Contact))
    b_conversation = world.b.one(table_of(Conversation))

    with workspace_session(db, a) as session:
        session.add(Contact(name="Smuggled", workspace_id=b))
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    with workspace_session(db, a) as session:
        # A reference (foreign key) into B, even by bare id.
        session.add(
            Conversation(contact_id=b_contact, business_number="+254700000001", opened_at=NOW)
        )
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    with workspace_session(db, a) as session:
        session.add(
            Note(
                conversation_id=b_conversation, body="psst", author_kind="teammate", created_at=NOW
            )
        )
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    with workspace_session(db, a) as session:
        mine = session.get_one(Contact, world.a.one(table_of(Contact)))
        mine.workspace_id = b
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    with workspace_session(db, a) as session:
        conversation = session.get_one(Conversation, world.a.one(table_of(Conversation)))
        conversation.contact_id = b_contact
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    # A parent object from another session, on a relationship without a backref
    # (nothing marks the parent itself as changed).
    with workspace_session(db, b) as other:
        their_teammate = other.get_one(Teammate, world.b.one(table_of(Teammate)))
    with workspace_session(db, a) as session:
        conversation = session.get_one(Conversation, world.a.one(table_of(Conversation)))
        conversation.owner = their_teammate
        with pytest.raises(CrossWorkspaceError):
            session.flush()

    with workspace_session(db, a) as session:
        session.add(Workspace(slug=f"x-{uuid.uuid4().hex[:8]}", name="Side door"))
        with pytest.raises(CrossWorkspaceError):
            session.flush()


def test_a_session_without_a_workspace_refuses_kazi_tables(db: Engine) -> None:
    contact_id = new_workspace(db)
    for session in (Session(db), sessionmaker(db)()):
        with session:
            with pytest.raises(UnscopedSessionError):
                session.scalars(select(Contact)).all()
            with pytest.raises(UnscopedSessionError):
                session.get(Contact, contact_id)
            with pytest.raises(UnscopedSessionError):
                session.execute(select(func.count()).select_from(Workspace))
            with pytest.raises(UnscopedSessionError):
                session.execute(update(InboundEvent).values(attempts=0))
            session.add(Contact(name="Nobody's", workspace_id=contact_id))
            with pytest.raises(UnscopedSessionError):
                session.flush()


def test_the_system_session_crosses_workspaces_on_purpose(db: Engine, world: World) -> None:
    with system_session(db) as session:
        owners = set(session.scalars(select(Contact.workspace_id)))
        assert {world.a.workspace_id, world.b.workspace_id} <= owners


def test_a_session_keeps_the_scope_it_was_given(db: Engine, world: World) -> None:
    factory = SessionFactory(db)
    with factory.system() as session, pytest.raises(UnscopedSessionError):
        bind_workspace(session, world.a.workspace_id)
    with factory.workspace(world.a.workspace_id) as session, pytest.raises(UnscopedSessionError):
        bind_workspace(session, world.b.workspace_id)


def test_a_unit_of_work_commits_or_rolls_back_as_a_whole(db: Engine) -> None:
    workspace_id = new_workspace(db)
    with unit_of_work(db, workspace_id) as session:
        session.add(Contact(name="Kept"))
    with pytest.raises(RuntimeError), unit_of_work(db, workspace_id) as session:
        session.add(Contact(name="Dropped"))
        session.flush()
        raise RuntimeError("the handler failed")
    with workspace_session(db, workspace_id) as session:
        assert session.scalars(select(Contact.name)).all() == ["Kept"]


def test_insert_statements_must_name_this_workspace(db: Engine, world: World) -> None:
    a, b = world.a.workspace_id, world.b.workspace_id

    def event(workspace_id: int, key: str) -> dict[str, object]:
        return {
            "workspace_id": workspace_id,
            "provider": "whatsapp",
            "dedup_key": key,
            "payload": {},
            "signature_ok": True,
            "received_at": NOW,
        }

    with workspace_session(db, a) as session:
        session.execute(insert(InboundEvent).values(event(a, "own-1")))
        session.execute(insert(InboundEvent), [event(a, "own-2"), event(a, "own-3")])
        session.commit()
        for statement, rows in (
            (insert(InboundEvent).values(event(b, "theirs-1")), None),
            (insert(InboundEvent).values([event(a, "x-1"), event(b, "x-2")]), None),
            (insert(InboundEvent), [event(a, "y-1"), event(b, "y-2")]),
        ):
            with pytest.raises(CrossWorkspaceError):
                session.execute(statement, rows)
            session.rollback()
    with system_session(db) as session:
        keys = session.scalars(
            select(InboundEvent.dedup_key).where(InboundEvent.workspace_id.in_([a, b]))
        ).all()
        assert sorted(k for k in keys if "-" in k and not k.startswith("dedup")) == [
            "own-1",
            "own-2",
            "own-3",
        ]
