"""Moving a conversation along the sales pipeline: only allowed moves, recorded, race-safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.auth import Role, create_api_token
from engine.core.config import Pipeline, WorkspaceConfig
from engine.db import unit_of_work, workspace_session
from engine.inbox.conversation import conversation_view
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.stages import move_stage
from engine.models import Conversation, StageHistory
from engine.workspaces.directory import read_folder
from tests.inbox.seed import NOW, World, desk
from tests.inbox.web import Web


@pytest.fixture(scope="module")
def retail(repo_root: Path) -> WorkspaceConfig:
    return read_folder(repo_root / "configs" / "retail")


@pytest.fixture(scope="module")
def pipelines(retail: WorkspaceConfig) -> tuple[Pipeline, ...]:
    return retail.pipelines


def test_allowed_moves_only_and_each_one_recorded(
    world: World, retail: WorkspaceConfig, pipelines: tuple[Pipeline, ...]
) -> None:
    conversation = world.conversation("Stages", owner="agent")
    agent = world.principal("agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        view = conversation_view(
            session, agent, conversation, templates=(), pipelines=pipelines, now=NOW
        )
        assert [c.name for c in view.stages][:2] == ["inquiry", "quote"]  # no stage yet: any
        move_stage(
            desk(session, retail),
            agent,
            conversation,
            stage="inquiry",
            expected_stage=None,
            now=NOW,
        )
        move_stage(
            desk(session, retail),
            agent,
            conversation,
            stage="quote",
            expected_stage="inquiry",
            now=NOW,
        )
        with pytest.raises(InvalidInput, match="does not allow moving from quote to 'completed'"):
            move_stage(
                desk(session, retail),
                agent,
                conversation,
                stage="completed",
                expected_stage="quote",
                now=NOW,
            )
        view = conversation_view(
            session, agent, conversation, templates=(), pipelines=pipelines, now=NOW
        )
        assert [c.name for c in view.stages] == ["inquiry", "payment", "lost"]
        assert [e.text for e in view.timeline if e.kind == "stage"] == [
            "start → inquiry",
            "inquiry → quote",
        ]
    with workspace_session(world.db, world.workspace_id) as session:
        row = session.get(Conversation, conversation)
        assert row is not None and (row.pipeline, row.stage, row.waiting_on) == (
            "sales",
            "quote",
            "customer",
        )
        assert len(session.scalars(select(StageHistory)).all()) == 2


def test_a_move_made_on_a_stale_view_is_refused(world: World, retail: WorkspaceConfig) -> None:
    conversation = world.conversation("Stale", owner="agent", stage="quote")
    with (
        unit_of_work(world.db, world.workspace_id) as session,
        pytest.raises(Conflict, match="quote"),
    ):
        move_stage(
            desk(session, retail),
            world.principal("agent"),
            conversation,
            stage="quote",
            expected_stage="inquiry",
            now=NOW,
        )


def test_moving_the_stage_from_the_page_and_the_api(web: Web) -> None:
    conversation = web.world.conversation("Paged", owner="agent")
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert (
        'id="stage"' in page and '<option value="payment">Awaiting M-Pesa payment</option>' in page
    )
    assert (
        web.post(
            f"/inbox/c/{conversation}/stage", {"stage": "inquiry", "expected_stage": ""}
        ).status_code
        == 303
    )
    refused = web.post(
        f"/inbox/c/{conversation}/stage", {"stage": "delivery", "expected_stage": "inquiry"}
    )
    assert refused.status_code == 400 and "does not allow" in refused.text
    token = create_api_token(
        web.world.db, workspace_id=web.world.workspace_id, role=Role.MANAGER, label="t", now=NOW
    )
    moved = web.client.put(
        f"/api/v1/conversations/{conversation}/stage",
        json={"stage": "quote", "expected_stage": "inquiry"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert moved.status_code == 200 and moved.json()["stage"] == "quote"
    assert moved.json()["next_stages"] == ["inquiry", "payment", "lost"]
