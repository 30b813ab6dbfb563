"""Running Alembic from inside the installed package: no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# The scripts are data to Alembic (it runs env.py itself), so found by path, not imported.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str) -> Config:
    """The Alembic configuration for `url`, built in code.

    The URL travels in `config.attributes`, not the ini options, so a password
    with a `%` in it survives configparser interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the newest by default).

    Safe to run from several processes at once on PostgreSQL (the migration
    takes an advisory lock) and safe to run again when already current.
    """
    command.upgrade(alembic_config(url), revision)
