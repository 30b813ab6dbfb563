"""`/metrics` for Prometheus: Kazi's counters from every process, and queue depths.

Answers only a bearer of KAZI_METRICS_TOKEN (`Authorization: Bearer <token>`), the
way Prometheus' `authorization` scrape setting sends it; without the setting the page
does not exist, so an installation exposes nothing it did not ask for.
"""

from __future__ import annotations

import hmac

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from engine.observability import observed_webhook, render_metrics
from engine.observability.metrics import CONTENT_TYPE
from engine.observability.queues import QueueDepths
from ui.dependencies import RuntimeDependency


class MetricsController(Controller):
    @get("/metrics", sync_to_thread=True)
    def metrics(self, request: Request, runtime: RuntimeDependency) -> Response[bytes]:
        token = runtime.settings.metrics_token
        if not token:
            raise NotFoundException("metrics are off: set KAZI_METRICS_TOKEN to turn them on")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise NotAuthorizedException("send Authorization: Bearer <KAZI_METRICS_TOKEN>")
        depths = QueueDepths(runtime.db, runtime.clock.now, runtime.queue.pending)
        return Response(render_metrics([depths]), media_type=CONTENT_TYPE)


def webhook_metrics(app: ASGIApp) -> ASGIApp:
    """Middleware counting provider webhooks in and out, and timing the answer from the
    first byte of the request to the start of the response (the body is committed by
    then: DESIGN, reliability rule 1). Litestar runs it on matched routes only, so the
    source label (the path's second segment: whatsapp, integrations...) stays bounded."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not path.startswith("/webhooks/")
        ):
            await app(scope, receive, send)
            return
        with observed_webhook(path.split("/")[2]) as answered:

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    answered(message["status"])
                await send(message)

            await app(scope, receive, sending)

    return middleware
