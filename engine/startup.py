"""Checks a process makes before it starts work, each failing with one clear line."""

from __future__ import annotations

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from engine.settings import Settings, SettingsError


def check_database(settings: Settings) -> None:
    """Raise SettingsError naming the URL (without password) if the database does not answer."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    connect_args = {} if settings.is_sqlite else {"connect_timeout": 5}
    engine = create_engine(settings.database_url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        original = getattr(error, "orig", None) or error
        reason = (str(original).strip().splitlines() or [type(error).__name__])[0]
        raise SettingsError(
            f"cannot reach the database at {shown}: {reason}; check KAZI_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()


def check_queue(settings: Settings) -> None:
    """Raise SettingsError if KAZI_REDIS_URL is set and Redis does not answer."""
    if not settings.redis_url:
        return
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        raise SettingsError(
            f"cannot reach Redis at {settings.redis_url}: {error}; check KAZI_REDIS_URL"
        ) from None
