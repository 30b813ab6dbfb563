"""Live updates as server-sent events, and the presence heartbeat that feeds them.

Each open page keeps one EventSource. The stream waits on this process's
ChangeHub (PostgreSQL LISTEN, engine.db.change_listener) for a change in its
workspace or conversation, then re-reads the page's marker (engine.inbox.live)
and sends `changed` when it moved; a conversation page also gets `presence` when
who is viewing or typing changed. When the hub is not connected (SQLite, or the
listening connection is down) the stream polls every couple of seconds instead,
so the pages stay live either way, across any number of server processes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_204_NO_CONTENT

from engine.auth import Principal, authenticate_session
from engine.composition import Runtime
from engine.db import unit_of_work, workspace_session
from engine.db.change_listener import ChangeHub
from engine.inbox.live import conversation_marker, queue_marker
from engine.inbox.presence import Activity, presence_in, report_presence
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS
from ui.security.auth import PrincipalDependency, page_principal
from ui.security.cookies import SESSION_COOKIE

# Without a listening connection, how often a stream re-reads its marker.
POLL_SECONDS = 2.0
# With one, a safety net in case a notification was missed anyway.
RECHECK_SECONDS = 20.0
# A burst of changes (a busy workspace) wakes a stream at most this often.
MIN_GAP_SECONDS = 1.0
# A stream ends after this long; EventSource reconnects by itself, which also
# spreads long-lived connections across server processes.
STREAM_LIFETIME_SECONDS = 300.0

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass(frozen=True)
class Seen:
    """What one check of a page found: its marker, and for a conversation page who
    else is there (as the event's JSON) and when that lapses by the clock alone."""

    marker: str
    presence: str = ""
    presence_lapses: datetime | None = None


def _look(runtime: Runtime, principal: Principal, conversation: int | None) -> Seen:
    """One workspace session per check, however much the page shows."""
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        if conversation is None:
            return Seen(queue_marker(session, principal, now))
        marker = conversation_marker(session, principal, conversation)
        view = presence_in(session, principal, conversation, now)
    presence = json.dumps(
        {
            "text": view.describe(),
            "typing": [p.name for p in view.people if p.typing],
            "viewing": [p.name for p in view.people if not p.typing],
        }
    )
    return Seen(marker, presence, view.changes_at)


class LiveController(Controller):
    path = "/inbox/live"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=False)
    def stream(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation: FromQuery[int | None] = None,
    ) -> ServerSentEvent:
        cookie = request.cookies.get(SESSION_COOKIE)
        hub: ChangeHub = request.app.state.live_hub
        # Checked before streaming, so another workspace's conversation is a 404 up front.
        first = _look(runtime, principal, conversation).marker

        async def check_session() -> bool:
            still = await anyio.to_thread.run_sync(
                lambda: authenticate_session(runtime.db, cookie, runtime.clock.now())
            )
            return still is not None

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            waiter = hub.subscribe(principal.workspace_id, conversation)
            # Anything that changed between `first` and subscribing is caught at once.
            waiter.woken.set()
            last, last_presence, presence_lapses = first, "", None
            try:
                yield ServerSentEventMessage(event="ready", data="ok", retry=3000)
                ends = anyio.current_time() + STREAM_LIFETIME_SECONDS
                while (left := ends - anyio.current_time()) > 0:
                    wait = min(left, RECHECK_SECONDS if hub.connected else POLL_SECONDS)
                    if presence_lapses is not None:
                        due = (presence_lapses - runtime.clock.now()).total_seconds()
                        wait = min(wait, max(0.1, due))
                    woken = False
                    with anyio.move_on_after(wait):
                        await waiter.woken.wait()
                        woken = True
                    waiter.woken.clear()
                    if not woken and anyio.current_time() >= ends:
                        break  # the browser reconnects and starts from a fresh marker
                    if not await check_session():
                        yield ServerSentEventMessage(event="signed-out", data="sign in again")
                        return
                    seen = await anyio.to_thread.run_sync(
                        lambda: _look(runtime, principal, conversation)
                    )
                    sent = False
                    if seen.marker != last:
                        last, sent = seen.marker, True
                        yield ServerSentEventMessage(event="changed", data="refresh")
                    presence_lapses = seen.presence_lapses
                    if conversation is not None and seen.presence != last_presence:
                        last_presence, sent = seen.presence, True
                        yield ServerSentEventMessage(event="presence", data=seen.presence)
                    if not sent and not woken:
                        yield ServerSentEventMessage(comment="still here")
                    if woken:
                        await anyio.sleep(MIN_GAP_SECONDS)
            finally:
                hub.unsubscribe(waiter)

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store"})


class PresenceController(Controller):
    """The conversation page's heartbeat: open, typing, or gone."""

    path = "/inbox/c/{conversation_id:int}/presence"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @post(sync_to_thread=True, status_code=HTTP_204_NO_CONTENT)
    def report(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> None:
        try:
            activity = Activity(data.get("activity", ""))
        except ValueError as error:
            raise ValidationException("activity must be viewing, typing or left") from error
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            report_presence(session, principal, conversation_id, activity, runtime.clock.now())
