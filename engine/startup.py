"""Checks a process makes before it starts work, each failing with one clear line."""

from __future__ import annotations

import os

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dsl.config import check_secrets, load_config
from engine.settings import Settings, SettingsError
from engine.workspaces.reload import workspace_folders


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


def missing_secrets(settings: Settings) -> list[str]:
    """One line per secret a workspace folder names but the environment lacks.

    Not fatal: one workspace's missing secret must not stop the others being
    served; its webhooks are refused (401) until the variable is set.
    """
    lines = []
    for folder in workspace_folders(settings.config_dir) if settings.config_dir.is_dir() else []:
        config, _ = load_config(folder)
        if config is None:
            continue
        lines += [d.headline() for d in check_secrets(config, os.environ)]
    return lines
