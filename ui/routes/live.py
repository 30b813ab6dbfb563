"""Live updates as server-sent events: "something changed, refresh" for the open page.

Each open page keeps one EventSource; every couple of seconds the stream re-checks
the session (a signed-out or ended session stops it) and the page's marker
(engine.inbox.live), and sends `changed` when it moved. Markers come from the
database, so any number of server processes and workers agree; the page's own
slow polling remains as the fallback if the stream drops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from engine.auth import Principal, authenticate_session
from engine.composition import Runtime
from engine.db import workspace_session
from engine.inbox.live import conversation_marker, queue_marker
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS
from ui.security.auth import PrincipalDependency, page_principal
from ui.security.cookies import SESSION_COOKIE

CHECK_EVERY_SECONDS = 2.0
# A stream ends after this long; EventSource reconnects by itself, which also
# spreads long-lived connections across server processes.
STREAM_LIFETIME_SECONDS = 300.0


def _marker(runtime: Runtime, principal: Principal, conversation: int | None) -> str:
    with workspace_session(runtime.db, principal.workspace_id) as session:
        if conversation is None:
            return queue_marker(session, principal, runtime.clock.now())
        return conversation_marker(session, principal, conversation)


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
        # Checked before streaming, so another workspace's conversation is a 404 up front.
        first = _marker(runtime, principal, conversation)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            last = first
            yield ServerSentEventMessage(event="ready", data="ok", retry=3000)
            started = anyio.current_time()
            while anyio.current_time() - started < STREAM_LIFETIME_SECONDS:
                await anyio.sleep(CHECK_EVERY_SECONDS)
                still = await anyio.to_thread.run_sync(
                    lambda: authenticate_session(runtime.db, cookie, runtime.clock.now())
                )
                if still is None:
                    yield ServerSentEventMessage(event="signed-out", data="sign in again")
                    return
                marker = await anyio.to_thread.run_sync(
                    lambda: _marker(runtime, principal, conversation)
                )
                if marker != last:
                    last = marker
                    yield ServerSentEventMessage(event="changed", data="refresh")
                else:
                    yield ServerSentEventMessage(comment="still here")

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store"})
