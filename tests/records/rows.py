"""Makes a valid row of any mapped model, so the isolation test covers models it has
never heard of: a new model is tested the day it is added, or the test says which
column it cannot fill."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Enum,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    TypeDecorator,
    inspect,
)
from sqlalchemy import insert as core_insert
from sqlalchemy.orm import Mapper

from engine.models import Base, WorkspaceScoped
from tests.records.moments import NOW

_serial = itertools.count(1)


def scoped_mappers() -> list[Mapper[Any]]:
    """Every mapped model whose rows belong to a workspace, in dependency order."""
    order = {table: n for n, table in enumerate(Base.metadata.sorted_tables)}
    mappers = [m for m in Base.registry.mappers if issubclass(m.class_, WorkspaceScoped)]
    return sorted(mappers, key=lambda m: order[table_of(m)])


def table_of(model: type[Any] | Mapper[Any]) -> Table:
    """The table a model (or its mapper) writes to."""
    mapper = model if isinstance(model, Mapper) else inspect(model)
    return cast(Table, mapper.local_table)


def sample(column: Column[Any]) -> Any:
    """A value `column` accepts; unique enough for any unique constraint."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    n = next(_serial)
    if isinstance(kind, Enum):
        return kind.enums[0]
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return NOW.date()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Numeric):
        return Decimal("12.5")
    if isinstance(kind, Integer):
        return n
    if isinstance(kind, LargeBinary):
        return f"bytes-{n}".encode()
    if isinstance(kind, JSON):
        return {"sample": n}
    if isinstance(kind, String):
        text = f"{column.name}-{n}"
        return text[-kind.length :] if kind.length else text
    raise TypeError(
        f"teach tests/records/rows.py to fill {column.table.name}.{column.name} ({kind!r})"
    )


class RowMaker:
    """Inserts rows for one workspace straight through Core, so it can also write
    rows the ORM would refuse (a reference into another workspace) on purpose."""

    def __init__(self, engine: Engine, workspace_id: int) -> None:
        self.engine = engine
        self.workspace_id = workspace_id
        self._one: dict[Table, int] = {}

    def one(self, table: Table) -> int:
        """The id of this workspace's sample row of `table`, made on first use."""
        if table not in self._one:
            self._one[table] = self.make(table)
        return self._one[table]

    def make(self, table: Table, *, fresh: bool = False, **overrides: Any) -> int:
        """A new row of `table` in this workspace; foreign keys point at this
        workspace's sample rows (new rows when `fresh`, so unique pairs never
        collide) unless `overrides` says otherwise."""
        return self.insert(table, self.values(table, fresh=fresh, **overrides))

    def values(self, table: Table, *, fresh: bool = False, **overrides: Any) -> dict[str, Any]:
        """The column values `make` would insert."""
        values: dict[str, Any] = {"workspace_id": self.workspace_id}
        for column in table.columns:
            if column.primary_key or column.name in values:
                continue
            if column.name in overrides:
                values[column.name] = overrides[column.name]
                continue
            parent = next(iter(column.foreign_keys), None)
            if parent is not None:
                if parent.column.table is not table:
                    make_parent = self.make if fresh else self.one
                    values[column.name] = make_parent(cast(Table, parent.column.table))
                continue
            # Column defaults apply to Core inserts too; nullable columns stay empty.
            if column.nullable or column.server_default is not None or column.default is not None:
                continue
            values[column.name] = sample(column)
        return values

    def insert(self, table: Table, values: dict[str, Any]) -> int:
        with self.engine.begin() as connection:
            inserted = connection.execute(core_insert(table).values(values).returning(table.c.id))
            return int(inserted.scalar_one())
