"""Settings from the environment, read once by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(Exception):
    """A setting is wrong; the message is one line a person can act on."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    config_dir: Path
    secret_key: str
    bind: str
    var_dir: Path
    queue_name: str = "kazi"
    require_services: bool = False
    metrics_token: str = ""  # KAZI_METRICS_TOKEN: /metrics answers only a bearer of it
    log_format: str = ""  # KAZI_LOG_FORMAT: json or text; unset: text on a terminal
    # KAZI_LISTEN_DATABASE_URL: where live pages' LISTEN connects when KAZI_DATABASE_URL
    # goes through a transaction-pooling PgBouncer (LISTEN needs a session of its own).
    listen_database_url: str | None = None

    @property
    def host(self) -> str:
        return self.bind.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])

    @property
    def metrics_dir(self) -> Path:
        """Where server and worker processes on this machine keep their metric counts."""
        return self.var_dir / "metrics"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("KAZI_VAR_DIR", "var"))
        database_url = env.get("KAZI_DATABASE_URL") or f"sqlite:///{var_dir / 'kazi.sqlite3'}"
        redis_url = env.get("KAZI_REDIS_URL") or None
        bind = env.get("KAZI_BIND", "127.0.0.1:8000")
        settings = cls(
            database_url=_normalise_database_url(database_url),
            redis_url=redis_url,
            config_dir=Path(env.get("KAZI_CONFIG_DIR", "configs")),
            secret_key=env.get("KAZI_SECRET_KEY", ""),
            bind=bind,
            var_dir=var_dir,
            queue_name=env.get("KAZI_QUEUE_NAME", "kazi"),
            require_services=env.get("KAZI_REQUIRE_SERVICES", "") == "1",
            metrics_token=env.get("KAZI_METRICS_TOKEN", ""),
            log_format=env.get("KAZI_LOG_FORMAT", ""),
            listen_database_url=env.get("KAZI_LISTEN_DATABASE_URL") or None,
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://")):
            raise SettingsError(
                f"KAZI_REDIS_URL={self.redis_url!r} is not a redis:// URL; "
                "set it like redis://127.0.0.1:6379/0 or unset it to queue jobs in SQLite"
            )
        if self.log_format not in ("", "json", "text"):
            raise SettingsError(
                f"KAZI_LOG_FORMAT={self.log_format!r}: use json or text (or unset it)"
            )
        host, _, port = self.bind.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(
                f"KAZI_BIND={self.bind!r} is not HOST:PORT; set it like 127.0.0.1:8000"
            )


def _normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pin PostgreSQL to psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            f"KAZI_DATABASE_URL={url!r} is not a database URL; "
            "use sqlite:///var/kazi.sqlite3 or postgresql://user@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return url
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise SettingsError(
        f"KAZI_DATABASE_URL uses {backend!r}; Kazi runs on sqlite or postgresql only"
    )
