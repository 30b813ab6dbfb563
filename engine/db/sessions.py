"""Sessions that know which workspace they work in.

Always open sessions here: `workspace_session` for anything done on behalf of
one workspace (requests, jobs about one event or row), `system_session` only
for work that crosses workspaces on purpose (the sweeper, retention, admin).
The filtering itself lives in engine.models.scoping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

# Imported for its Session hooks: every committed change a live page shows is announced.
from engine.db import change_feed
from engine.models.scoping import bind_workspace, mark_system


class SessionFactory:
    """Makes Sessions on one Engine; objects stay readable after commit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._make = sessionmaker(bind=engine, expire_on_commit=False)

    def workspace(self, workspace_id: int) -> Session:
        return bind_workspace(self._make(), workspace_id)

    def system(self) -> Session:
        return mark_system(self._make())


EngineOrFactory = Engine | SessionFactory


def _factory(source: EngineOrFactory) -> SessionFactory:
    return source if isinstance(source, SessionFactory) else SessionFactory(source)


def workspace_session(source: EngineOrFactory, workspace_id: int) -> Session:
    """A Session that sees and writes only `workspace_id`'s rows.

    Use it as a context manager (`with workspace_session(db, ws) as session:`);
    it does not commit by itself. Selects, `get()` and relationship loads are
    filtered; new rows are stamped with the workspace; a row or reference of
    another workspace refuses to flush.
    """
    return _factory(source).workspace(workspace_id)


def system_session(source: EngineOrFactory) -> Session:
    """A Session that crosses workspaces, for sweepers and admin jobs only.

    It adds no filter; new scoped rows must carry their workspace_id.
    """
    return _factory(source).system()


@contextmanager
def unit_of_work(source: EngineOrFactory, workspace_id: int) -> Iterator[Session]:
    """One transaction in one workspace: commits when the block ends normally,
    rolls back when it raises."""
    with workspace_session(source, workspace_id) as session, session.begin():
        yield session


_BATCH_CACHE = "kazi.batch_cache"
_ALL_OR_NOTHING = "all_or_nothing"
TRANSACTION_BOUND = "tx:"
"""Batch-cache keys starting with this are dropped whenever the session rolls back."""


def enable_batch_cache(session: Session, *, all_or_nothing: bool = False) -> None:
    """Lets the code this session runs keep what cannot change under a worker's batch
    (the rules in force, the workspace's time zone, its teammates' handles) for the rest
    of the session, instead of asking the database again for every event. Only for the
    short sessions of the inbound batch job: a config reload is seen by the next batch.

    `all_or_nothing`: the caller rolls the whole transaction back on any error and does
    the work again more carefully, so code that would guard one step with a savepoint
    (to tell "applied before" from other errors) may skip it (see `all_or_nothing`)."""
    if _BATCH_CACHE in session.info:
        return
    cache: dict[str, Any] = {_ALL_OR_NOTHING: all_or_nothing}
    session.info[change_feed.NOTIFY_AT_COMMIT] = set()
    session.info[_BATCH_CACHE] = cache

    def forget_transaction_bound(_session: Session) -> None:
        # A rollback, even to a savepoint, may have let go of what a "tx:" entry
        # remembers (a row lock taken after the savepoint, say).
        for key in [k for k in cache if k.startswith(TRANSACTION_BOUND)]:
            del cache[key]

    event.listen(session, "after_rollback", forget_transaction_bound)


def all_or_nothing(session: Session) -> bool:
    """True when any error will roll the whole transaction back (`enable_batch_cache`)."""
    cache = batch_cache(session)
    return bool(cache and cache.get(_ALL_OR_NOTHING))


def batch_cache(session: Session) -> dict[str, Any] | None:
    """The session's batch cache, or None when it has none (then look everything up)."""
    cache = session.info.get(_BATCH_CACHE)
    return cache if isinstance(cache, dict) else None
