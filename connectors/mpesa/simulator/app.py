"""The Daraja simulator's HTTP face (an ASGI/Litestar app, like the WhatsApp one).

Daraja's paths: `GET /oauth/v1/generate`, `POST /mpesa/stkpush/v1/processrequest`,
`/mpesa/stkpushquery/v1/query`, `/mpesa/c2b/v1/registerurl`, `/mpesa/c2b/v1/simulate`,
`/mpesa/transactionstatus/v1/query`. Callbacks are POSTed to the URLs the requests
name, after their delay. Control API (127.0.0.1 only, no authentication):

- `GET /_sim/state`: pushes, queued outcomes, faults, registered URLs, callbacks posted.
- `POST /_sim/outcomes` `{"outcomes": ["cancel", "duplicate"]}`: what the next pushes do.
- `POST /_sim/faults` `{"spec": "500:2,oauth-expiry"}`.
- `POST /_sim/pushes/{checkout}/complete` `{"outcome": "success"}`: answer a `processing` push.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromPath

from connectors.mpesa.simulator.world import (
    Answer,
    Callback,
    DarajaWorld,
    OutcomeError,
    parse_faults,
)


class Deliveries:
    """Posts callbacks after their delay and remembers what each answered."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            task = asyncio.create_task(self._post(callback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, callback: Callback) -> None:
        await asyncio.sleep(callback.delay)
        entry: dict[str, Any] = {"url": callback.url, "body": callback.body}
        try:
            async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
                response = await client.post(callback.url, json=callback.body)
            entry["status"] = response.status_code
        except httpx.HTTPError as error:
            entry["error"] = repr(error)
        self.log.append(entry)


def create_app(world: DarajaWorld) -> Litestar:
    deliveries = Deliveries()

    def reply(answer: Answer) -> Response[dict[str, Any]]:
        return Response(answer.body, status_code=answer.status, media_type=MediaType.JSON)

    async def body_of(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
        try:
            document = json.loads(await request.body())
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def bad_body() -> Response[dict[str, Any]]:
        return reply(Answer(400, {"errorCode": "400.002.05", "errorMessage": "Invalid JSON"}))

    @get("/oauth/v1/generate", media_type=MediaType.JSON)
    async def token(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        return reply(world.token(request.headers.get("authorization"), time.time()))

    @post("/mpesa/stkpush/v1/processrequest", media_type=MediaType.JSON)
    async def stk_push(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request)
        if body is None:
            return bad_body()
        answer, callbacks = world.push(request.headers.get("authorization"), body, time.time())
        deliveries.schedule(callbacks)
        return reply(answer)

    @post("/mpesa/stkpushquery/v1/query", media_type=MediaType.JSON)
    async def stk_query(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request)
        if body is None:
            return bad_body()
        return reply(world.query(request.headers.get("authorization"), body, time.time()))

    @post("/mpesa/c2b/v1/registerurl", media_type=MediaType.JSON)
    async def register(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request)
        if body is None:
            return bad_body()
        return reply(world.register_urls(request.headers.get("authorization"), body, time.time()))

    @post("/mpesa/c2b/v1/simulate", media_type=MediaType.JSON)
    async def c2b_simulate(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request)
        if body is None:
            return bad_body()
        answer, callbacks = world.c2b_simulate(
            request.headers.get("authorization"), body, time.time()
        )
        deliveries.schedule(callbacks)
        return reply(answer)

    @post("/mpesa/transactionstatus/v1/query", media_type=MediaType.JSON)
    async def transaction_status(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request)
        if body is None:
            return bad_body()
        answer, callbacks = world.transaction_status(
            request.headers.get("authorization"), body, time.time()
        )
        deliveries.schedule(callbacks)
        return reply(answer)

    @get("/_sim/state", media_type=MediaType.JSON)
    async def state() -> dict[str, Any]:
        return {**world.state(), "callbacks": deliveries.log}

    @post("/_sim/outcomes", media_type=MediaType.JSON, status_code=200)
    async def outcomes(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request) or {}
        wanted = body.get("outcomes")
        if not isinstance(wanted, list) or not all(isinstance(o, str) for o in wanted):
            return reply(Answer(400, {"error": 'send {"outcomes": ["success", ...]}'}))
        try:
            world.queue_outcomes(wanted)
        except OutcomeError as error:
            return reply(Answer(400, {"error": str(error)}))
        return reply(Answer(200, {"queued": world.state()["queued_outcomes"]}))

    @post("/_sim/faults", media_type=MediaType.JSON, status_code=200)
    async def faults(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await body_of(request) or {}
        try:
            parse_faults(str(body.get("spec", "")), world.faults)
        except OutcomeError as error:
            return reply(Answer(400, {"error": str(error)}))
        return reply(Answer(200, {"faults": world.faults.describe()}))

    @post("/_sim/pushes/{checkout:str}/complete", media_type=MediaType.JSON, status_code=200)
    async def complete(
        request: Request[Any, Any, Any], checkout: FromPath[str]
    ) -> Response[dict[str, Any]]:
        body = await body_of(request) or {}
        try:
            callbacks = world.complete(checkout, str(body.get("outcome", "success")))
        except KeyError:
            return reply(Answer(404, {"error": f"no push {checkout}"}))
        except OutcomeError as error:
            return reply(Answer(400, {"error": str(error)}))
        deliveries.schedule(callbacks)
        return reply(Answer(200, world.pushes[checkout].as_dict()))

    return Litestar(
        route_handlers=[
            token,
            stk_push,
            stk_query,
            register,
            c2b_simulate,
            transaction_status,
            state,
            outcomes,
            faults,
            complete,
        ],
        openapi_config=None,
    )
