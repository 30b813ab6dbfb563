"""Exit 0 when the PostgreSQL and Redis given on the command line both answer.

`make test` uses it to decide whether the second run (PostgreSQL + Redis) can go.
"""

from __future__ import annotations

import sys


def postgres_answers(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def main(argv: list[str]) -> int:
    postgres_url, redis_url = argv
    ok = True
    if not postgres_answers(postgres_url):
        print(f"PostgreSQL does not answer at {postgres_url}")
        ok = False
    if not redis_answers(redis_url):
        print(f"Redis does not answer at {redis_url}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
