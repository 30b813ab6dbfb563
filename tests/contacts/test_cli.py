"""`kazi import contacts FILE --workspace W`: the same import from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.composition import Runtime
from engine.db import workspace_session
from engine.models import Contact, ContactImport
from tests.inbox.seed import World
from ui.cli import main


@pytest.fixture()
def kazi_env(
    monkeypatch: pytest.MonkeyPatch, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("KAZI_DATABASE_URL", database_url)
    monkeypatch.setenv("KAZI_CONFIG_DIR", str(runtime.settings.config_dir))
    monkeypatch.setenv("KAZI_VAR_DIR", str(tmp_path / "var"))


@pytest.mark.usefixtures("kazi_env")
def test_the_command_imports_reports_errors_and_is_idempotent(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "customers.csv"
    listing.write_text(
        "Name,Phone,Town\nAmina,0722 111 222,nairobi\nNobody,12345,\n", encoding="utf-8"
    )
    arguments = ["import", "contacts", str(listing), "--workspace", world.slug]
    assert main(arguments) == 1  # "Town" is no field of the retail workspace
    assert "unknown field 'town'" in capsys.readouterr().err
    mapped = [*arguments, "--map", "Town=field:county"]
    assert main([*mapped, "--check"]) == 0
    assert "1 rows ready, 1 with errors; nothing written" in capsys.readouterr().out
    assert main(mapped) == 0
    said = capsys.readouterr()
    assert "1 contacts created" in said.out and "customers.csv:3: bad number" in said.err
    assert main(mapped) == 0
    assert "0 contacts created, 0 updated, 1 unchanged" in capsys.readouterr().out
    with workspace_session(world.db, world.workspace_id) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        amina = session.scalars(select(Contact)).one()
        assert amina.fields == {"county": "nairobi"}
        assert session.scalar(select(func.count()).select_from(ContactImport)) == 2
    assert main(["import", "contacts", str(listing), "--workspace", "nope"]) == 1
