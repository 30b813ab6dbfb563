"""Per-number send rate limits, shared by every worker (issue 4, item 4).

A token bucket per key (workspace and business number) that holds at most one
second's worth of sends and refills at the configured rate. Its state lives where
the job queue lives — Redis when KAZI_REDIS_URL is set, else a SQLite file in
KAZI_VAR_DIR — so all workers of a deployment draw from the same bucket and a
restart forgets nothing. Taking a token never blocks: it answers how long to wait.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

import redis

_REDIS_TAKE = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local rate, capacity, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class TokenBuckets(Protocol):
    def take(self, key: str, rate: float, now: datetime) -> timedelta:
        """Take one token from `key`'s bucket: zero when taken, else how long until one is."""
        ...


@runtime_checkable
class RateLimited(Protocol):
    """A sender that must be admitted before each send (see WhatsAppSenders)."""

    def admit(self, now: datetime) -> timedelta:
        """Zero to send now, else how long to wait; a zero answer used up one token."""
        ...


def refill(tokens: float, at: float, rate: float, now: float) -> tuple[float, float, float]:
    """The bucket arithmetic: (tokens left, as of when, seconds to wait) after one take."""
    capacity = max(1.0, rate)
    if now > at:
        tokens, at = min(capacity, tokens + (now - at) * rate), now
    if tokens >= 1:
        return tokens - 1, at, 0.0
    return tokens, at, (1 - tokens) / rate


class RedisTokenBuckets:
    """Buckets as Redis hashes, updated by one Lua script so a take is atomic."""

    def __init__(self, url: str, prefix: str = "kazi:send-rate") -> None:
        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(_REDIS_TAKE)
        self._prefix = prefix

    def take(self, key: str, rate: float, now: datetime) -> timedelta:
        capacity = max(1.0, rate)
        wait = self._take(keys=[f"{self._prefix}:{key}"], args=[rate, capacity, now.timestamp()])
        return timedelta(seconds=float(wait))


class SqliteTokenBuckets:
    """Buckets in a SQLite file, for deployments without Redis (all workers on one machine)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS send_rate (key TEXT PRIMARY KEY, tokens REAL, at REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=10, isolation_level=None)

    def take(self, key: str, rate: float, now: datetime) -> timedelta:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one taker at a time, across processes
            row = connection.execute(
                "SELECT tokens, at FROM send_rate WHERE key = ?", (key,)
            ).fetchone()
            stamp = now.timestamp()
            tokens, at = (float(row[0]), float(row[1])) if row else (max(1.0, rate), stamp)
            tokens, at, wait = refill(tokens, at, rate, stamp)
            connection.execute(
                "INSERT INTO send_rate (key, tokens, at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                (key, tokens, at),
            )
            connection.execute("COMMIT")
        finally:
            connection.close()
        return timedelta(seconds=wait)


def make_token_buckets(redis_url: str | None, var_dir: Path) -> TokenBuckets:
    """Buckets beside the job queue: in Redis when there is one, else in var_dir."""
    if redis_url:
        return RedisTokenBuckets(redis_url)
    return SqliteTokenBuckets(var_dir / "send-rate.sqlite3")
