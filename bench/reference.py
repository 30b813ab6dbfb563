"""The yardstick for Kazi's ingest: a best-practice bare durable webhook endpoint.

What a careful engineer writes when a webhook only has to be safe on disk before the
200, and nothing else: Litestar served by granian (or uvicorn), an async psycopg
pool, the signature checked, one `INSERT … ON CONFLICT DO NOTHING` and a commit per
request (synchronous_commit on, so a 200 means the body is on disk). No parsing, no
queue, no workspace lookup: everything Kazi does beyond this is what the comparison in
bench/ingest.py prices.

    granian --interface asgi --factory bench.reference:app_from_env
    (KAZI_BENCH_REFERENCE_URL=postgresql://..., KAZI_BENCH_APP_SECRET=...)

`/noop` reads the body and answers: the ceiling of the web stack alone.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from litestar import Litestar, Request, Response, post
from psycopg_pool import AsyncConnectionPool

SIGNATURE_HEADER = "x-hub-signature-256"  # Meta's header, as connectors.whatsapp names it
TABLE = "bench_reference_events"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    dedup_key text NOT NULL UNIQUE,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = f"INSERT INTO {TABLE} (dedup_key, body) VALUES (%s, %s) ON CONFLICT (dedup_key) DO NOTHING"


def create_app(conninfo: str, app_secret: str, pool_size: int = 10) -> Litestar:
    pool = AsyncConnectionPool(conninfo, min_size=pool_size, max_size=pool_size, open=False)
    secret = app_secret.encode()

    async def open_pool() -> None:
        await pool.open(wait=True)

    async def close_pool() -> None:
        await pool.close()

    @post("/noop", status_code=200)
    async def noop(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "ok"}

    @post("/webhook", status_code=200)
    async def webhook(request: Request) -> Response[dict[str, str]]:
        body = await request.body()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""), expected):
            return Response({"status": "bad signature"}, status_code=401)
        # The pool's context commits on leaving it: the row is durable before the 200.
        async with pool.connection() as connection:
            await connection.execute(INSERT, (hashlib.sha256(body).hexdigest(), body))
        return Response({"status": "stored"}, status_code=200)

    return Litestar(
        route_handlers=[noop, webhook], on_startup=[open_pool], on_shutdown=[close_pool]
    )


def app_from_env() -> Litestar:
    return create_app(
        os.environ["KAZI_BENCH_REFERENCE_URL"],
        os.environ["KAZI_BENCH_APP_SECRET"],
        int(os.environ.get("KAZI_BENCH_REFERENCE_POOL", "10")),
    )
