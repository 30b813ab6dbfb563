"""Hearing committed changes in a server process, and waking the live pages they concern.

One listening connection per server process (PostgreSQL LISTEN on the channel
engine.db.change_feed notifies); each open live page waits on a `Waiter` for its
workspace (and conversation). While the connection is down, or on SQLite where
there is nothing to listen to, `connected` is False and pages fall back to polling
every couple of seconds; reconnecting wakes every page once, so nothing changed
during the gap is missed. Nothing here is shared between processes: each process
listens for itself, and the pages always read what they show from the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from engine.db.change_feed import CHANNEL, PRESENCE_ONLY, parse_payload

logger = logging.getLogger(__name__)

# How long one wait for notifications lasts before the connection is checked.
HEALTH_CHECK_SECONDS = 10.0
RECONNECT_AFTER_SECONDS = (0.5, 1.0, 2.0, 5.0)
# Names the connection in pg_stat_activity, for operators (and the reconnect test).
APPLICATION_NAME = "kazi-live"


@dataclass(eq=False)
class Waiter:
    """One live page: its workspace, and its conversation if it shows one."""

    workspace_id: int
    conversation_id: int | None
    woken: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, workspace_id: int, conversation_id: int | None, kind: str) -> bool:
        if workspace_id != self.workspace_id:
            return False
        if self.conversation_id is None:
            # Queue pages: any content change may move a count; presence never does.
            return kind != PRESENCE_ONLY
        return conversation_id is None or conversation_id == self.conversation_id


class ChangeHub:
    def __init__(self) -> None:
        self._waiters: set[Waiter] = set()
        self.connected = False

    def subscribe(self, workspace_id: int, conversation_id: int | None) -> Waiter:
        waiter = Waiter(workspace_id, conversation_id)
        self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        self._waiters.discard(waiter)

    def deliver(self, payload: str) -> None:
        parsed = parse_payload(payload)
        if parsed is None:
            return
        for waiter in self._waiters:
            if waiter.wants(*parsed):
                waiter.woken.set()

    def wake_all(self) -> None:
        for waiter in self._waiters:
            waiter.woken.set()

    async def listen(self, engine: Engine, direct_url: str | None = None) -> None:
        """Listen until cancelled, reconnecting after any failure. PostgreSQL only.
        `direct_url` (KAZI_LISTEN_DATABASE_URL) bypasses a transaction-pooling PgBouncer:
        a LISTEN is only heard on the session that issued it."""
        url = make_url(direct_url or engine.url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True, application_name=APPLICATION_NAME
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.connected = True
                    failures = 0
                    self.wake_all()
                    await self._relay(connection)
            except (psycopg.Error, OSError) as error:
                logger.warning("live updates: listening connection lost: %s", error)
            finally:
                if self.connected:
                    self.connected = False
                    self.wake_all()
            delay = RECONNECT_AFTER_SECONDS[min(failures, len(RECONNECT_AFTER_SECONDS) - 1)]
            failures += 1
            await asyncio.sleep(delay)

    async def _relay(self, connection: psycopg.AsyncConnection[object]) -> None:
        while True:
            async for notification in connection.notifies(timeout=HEALTH_CHECK_SECONDS):
                self.deliver(notification.payload)
            # A quiet spell: make sure the connection is still there (a dead one raises).
            await connection.execute("SELECT 1")
