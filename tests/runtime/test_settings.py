from pathlib import Path

import pytest

from engine.settings import Settings, SettingsError


def test_defaults_run_on_sqlite_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/kazi.sqlite3"
    assert settings.redis_url is None
    assert settings.config_dir == Path("configs")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_postgres_urls_are_pinned_to_psycopg_3() -> None:
    settings = Settings.from_env({"KAZI_DATABASE_URL": "postgresql://kazi@db:5432/kazi"})
    assert settings.database_url == "postgresql+psycopg://kazi@db:5432/kazi"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"KAZI_DATABASE_URL": "not a url"}, "KAZI_DATABASE_URL"),
        ({"KAZI_DATABASE_URL": "mysql://root@localhost/kazi"}, "KAZI_DATABASE_URL"),
        ({"KAZI_REDIS_URL": "localhost:6379"}, "KAZI_REDIS_URL"),
        ({"KAZI_BIND": "8000"}, "KAZI_BIND"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    assert names in message
    assert "\n" not in message
