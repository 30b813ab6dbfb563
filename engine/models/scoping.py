"""Workspace isolation, in one place.

Every ORM statement any Session runs passes through `_scope_statement`:
- in a workspace session, each SELECT, UPDATE and DELETE of a workspace-scoped
  model (joins, relationship loads and `Session.get()` included) gets
  `workspace_id = <this workspace>` added, and `workspaces` itself shows only
  this workspace;
- in a system session (sweeper, migrations, admin jobs) nothing is added: the
  name says it crosses workspaces on purpose;
- in any other Session, touching a Kazi model raises `UnscopedSessionError`,
  so forgetting to choose is loud, never a silent leak.

Before each flush `_check_writes` stamps new rows with the session's workspace,
refuses rows of another workspace, and refuses a reference (foreign key) to a
row of another workspace. The listeners are registered on the Session class
when this module is imported, which `engine.models` always does.

What it cannot see: textual SQL (`text(...)`) and Core statements run on a
Connection. Those name their workspace by hand, and belong in reviewed
repository code, never in a controller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import BindParameter, Insert, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, with_loader_criteria
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.interfaces import MANYTOONE
from sqlalchemy.orm.mapper import Mapper
from sqlalchemy.sql.expression import ClauseElement, FromClause
from sqlalchemy.sql.util import find_tables

from engine.models.base import Base, WorkspaceScoped
from engine.models.workspace import Workspace

_WORKSPACE_KEY = "kazi.workspace_id"
_SYSTEM_KEY = "kazi.system"


class UnscopedSessionError(RuntimeError):
    """A Session touched Kazi's tables without saying which workspace it works in."""


class CrossWorkspaceError(RuntimeError):
    """A write would put or point a row into another workspace."""


def bind_workspace(session: Session, workspace_id: int) -> Session:
    """Make `session` see and write only `workspace_id`'s rows."""
    if session.info.get(_SYSTEM_KEY) or session.info.get(_WORKSPACE_KEY) not in (
        None,
        workspace_id,
    ):
        raise UnscopedSessionError("a session is bound to one scope for its whole life")
    session.info[_WORKSPACE_KEY] = workspace_id
    return session


def mark_system(session: Session) -> Session:
    """Let `session` cross workspaces (sweepers, migrations, admin jobs only)."""
    if session.info.get(_WORKSPACE_KEY) is not None:
        raise UnscopedSessionError("a workspace session cannot become a system session")
    session.info[_SYSTEM_KEY] = True
    return session


def session_workspace(session: Session) -> int | None:
    """The workspace a session is bound to, or None for a system session."""
    workspace_id: int | None = session.info.get(_WORKSPACE_KEY)
    return workspace_id


def _touches_kazi(state: ORMExecuteState) -> bool:
    """Whether the statement reads or writes any Kazi table, as an entity or as a
    bare FROM (`select(func.count()).select_from(Contact)` names no entity)."""
    if any(issubclass(mapper.class_, Base) for mapper in state.all_mappers):
        return True
    statement = state.statement
    if not isinstance(statement, ClauseElement):
        return False
    tables = find_tables(statement, check_columns=True, include_aliases=True)
    return any(table in _kazi_tables() for table in tables)


def _kazi_tables() -> set[FromClause]:
    return set(Base.metadata.tables.values())


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    session = state.session
    workspace_id = session.info.get(_WORKSPACE_KEY)
    if workspace_id is None:
        if session.info.get(_SYSTEM_KEY):
            return
        if _touches_kazi(state):
            raise UnscopedSessionError(
                "this Session has no workspace: use engine.db.workspace_session(...) "
                "or, for a job that crosses workspaces on purpose, system_session(...)"
            )
        return
    if state.is_insert:
        _check_insert(state, workspace_id)
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            WorkspaceScoped,
            lambda cls: cls.workspace_id == workspace_id,
            include_aliases=True,
        ),
        with_loader_criteria(Workspace, lambda cls: cls.id == workspace_id, include_aliases=True),
    )


def _check_insert(state: ORMExecuteState, workspace_id: int) -> None:
    """An INSERT statement (`session.execute(insert(Model).values(...))`, as used for
    insert-or-ignore) must name this session's workspace in every row it writes."""
    statement = state.statement
    table = getattr(statement, "table", None)
    if not isinstance(statement, Insert) or table not in _scoped_tables():
        return
    parameters = state.parameters
    rows: list[Mapping[str, Any]] = (
        [parameters] if isinstance(parameters, Mapping) else list(parameters or ())
    )
    supplied = [row["workspace_id"] for row in rows if "workspace_id" in row]
    supplied += _inline_values(statement, "workspace_id")
    if not supplied or any(value != workspace_id for value in supplied):
        raise CrossWorkspaceError(
            f"an INSERT into {table.name} in a session of workspace {workspace_id} "
            f"must write workspace_id={workspace_id} in every row"
        )


def _inline_values(statement: Insert, column: str) -> list[Any]:
    """The values an INSERT's `.values(...)` gives `column`, one per row.

    SQLAlchemy has no public accessor for these, so this reads `_values` and
    `_multi_values`; should they ever change, nothing is found and the insert is
    refused (closed, not open)."""
    single: Mapping[Any, Any] = getattr(statement, "_values", None) or {}
    multi: Iterable[Iterable[Mapping[Any, Any]]] = getattr(statement, "_multi_values", ())
    found = []
    for row in [single, *(row for rowset in multi for row in rowset)]:
        for key, value in row.items():
            if getattr(key, "key", key) == column:
                found.append(value.effective_value if isinstance(value, BindParameter) else value)
    return found


def _scoped_tables() -> set[FromClause]:
    return {
        mapper.local_table
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, WorkspaceScoped)
    }


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    workspace_id = session.info.get(_WORKSPACE_KEY)
    system = bool(session.info.get(_SYSTEM_KEY))
    changed = [
        obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Base)
    ]
    if not changed:
        return
    if workspace_id is None and not system:
        raise UnscopedSessionError(
            "this Session has no workspace: write through engine.db.workspace_session(...)"
        )
    with session.no_autoflush:
        for obj in changed:
            if isinstance(obj, Workspace):
                if workspace_id is not None and obj.id != workspace_id:
                    raise CrossWorkspaceError("a workspace session may change only its workspace")
                continue
            if not isinstance(obj, WorkspaceScoped):
                continue
            if obj in session.new and obj.workspace_id is None and workspace_id is not None:
                obj.workspace_id = workspace_id
            if workspace_id is not None and obj.workspace_id != workspace_id:
                raise CrossWorkspaceError(
                    f"{type(obj).__name__} of workspace {obj.workspace_id} "
                    f"written in a session of workspace {workspace_id}"
                )
            if obj not in session.deleted:
                _check_references(session, obj)


_CHECKED_KEY = "kazi.checked_parents"


def _check_references(session: Session, obj: WorkspaceScoped) -> None:
    """A row may only point at rows of its own workspace."""
    state = instance_state(obj)
    mapper = state.mapper
    for column in mapper.local_table.columns:
        if column.name == "workspace_id" or not column.foreign_keys:
            continue
        attribute = mapper.get_property_by_column(column).key
        if not state.has_identity or state.attrs[attribute].history.has_changes():
            value = getattr(obj, attribute)
            if value is None:
                continue
            for key in column.foreign_keys:
                target = _mapped_class(key.column.table)
                if target is None or not issubclass(target, WorkspaceScoped):
                    continue
                # A row never changes workspace: a parent checked once in this session
                # is not fetched again for the next row that points at it.
                checked: set[tuple[str, Any, int]] = session.info.setdefault(_CHECKED_KEY, set())
                if (target.__name__, value, obj.workspace_id) in checked:
                    continue
                parent = session.get(target, value)
                if parent is not None and parent.workspace_id == obj.workspace_id:
                    checked.add((target.__name__, value, obj.workspace_id))
                if parent is None or parent.workspace_id != obj.workspace_id:
                    raise CrossWorkspaceError(
                        f"{type(obj).__name__}.{attribute}={value} points at a "
                        f"{target.__name__} outside workspace {obj.workspace_id}"
                    )
    # A parent assigned as an object (`message.conversation = other`) reaches the
    # foreign key only during the flush, after the check above: check the object.
    for relationship in mapper.relationships:
        if relationship.direction is not MANYTOONE:
            continue
        parent = state.attrs[relationship.key].loaded_value
        if (
            isinstance(parent, WorkspaceScoped)
            and parent.workspace_id is not None
            and parent.workspace_id != obj.workspace_id
        ):
            raise CrossWorkspaceError(
                f"{type(obj).__name__}.{relationship.key} is a {type(parent).__name__} "
                f"of workspace {parent.workspace_id}, not {obj.workspace_id}"
            )


def _mapped_class(table: Any) -> type[Any] | None:
    for mapper in _mappers():
        if mapper.local_table is table:
            return mapper.class_
    return None


def _mappers() -> Iterable[Mapper[Any]]:
    return Base.registry.mappers


__all__ = [
    "CrossWorkspaceError",
    "UnscopedSessionError",
    "bind_workspace",
    "mark_system",
    "session_workspace",
]
