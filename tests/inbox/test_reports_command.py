"""`kazi reports rebuild`: tallies for a record that arrived without the engine."""

from __future__ import annotations

import pytest

from engine.conversations.tallies import stored
from engine.core.tallies import FIRST_RESPONSE, MESSAGES_IN, OPENED
from engine.db import workspace_session
from tests.inbox.seed import World
from ui.cli import main


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: object) -> None:
    monkeypatch.setenv("KAZI_DATABASE_URL", database_url)
    monkeypatch.setenv("KAZI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("KAZI_CONFIG_DIR", str(tmp_path))


def test_rebuild_counts_what_was_written_directly(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.conversation("Imported", texts=("Habari", "Bei gani?"))
    with workspace_session(world.db, world.workspace_id) as session:
        assert stored(session).rows() == {}  # written around the engine: nothing counted
    assert main(["reports", "rebuild", "--workspace", world.slug]) == 0
    assert "rebuilt the report tallies" in capsys.readouterr().out
    with workspace_session(world.db, world.workspace_id) as session:
        seen: dict[str, int] = {}
        for key, (count, _) in stored(session).rows().items():
            seen[key.measure] = seen.get(key.measure, 0) + count
    assert seen == {OPENED: 1, MESSAGES_IN: 2}
    assert FIRST_RESPONSE not in seen
    assert main(["reports", "rebuild", "--workspace", "nowhere"]) == 1
