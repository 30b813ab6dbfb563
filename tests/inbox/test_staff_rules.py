"""A teammate's actions on the page reach the rules, as the design's one flow says."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import workspace_session
from engine.models import OutboxRow, ScheduledAction
from tests.inbox.web import Web


def test_moving_to_quote_on_the_page_sends_the_quote_and_schedules_the_chase(web: Web) -> None:
    conversation = web.world.conversation("Wairimu", owner="agent", stage="inquiry")
    web.sign_in("agent")
    moved = web.post(
        f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"}
    )
    assert moved.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        sends = session.scalars(
            select(OutboxRow).where(OutboxRow.conversation_id == conversation)
        ).all()
        chases = session.scalars(
            select(ScheduledAction).where(ScheduledAction.conversation_id == conversation)
        ).all()
    assert [row.payload["name"] for row in sends] == ["quote_ready"]
    assert [action.rule_name for action in chases] == ["Send the quote"]
