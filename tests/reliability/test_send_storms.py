"""Provider storms: 429s, 500s and timeouts from the simulator; every send completes
exactly once (issue 4, item 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import workspace_session
from engine.models import Conversation, Message
from engine.outbox.sends import queue_template, queue_text
from tests.reliability.harness import Stack
from tests.reliability.history import check_history, simulator_sends

pytestmark = pytest.mark.services

CUSTOMERS = ["254722200001", "254722200002", "254722200003"]


def _conversations(stack: Stack) -> list[int]:
    with workspace_session(stack.db, stack.workspace_id) as session:
        return list(session.scalars(select(Conversation.id).order_by(Conversation.id)))


def _states(stack: Stack, ids: list[int]) -> list[str | None]:
    with workspace_session(stack.db, stack.workspace_id) as session:
        return [
            m.delivery_state
            for m in session.scalars(
                select(Message).where(Message.id.in_(ids)).order_by(Message.id)
            )
        ]


@pytest.mark.parametrize("storm", ["429:8", "500:8", "timeout:4", "429:3,500:3,timeout:2"])
def test_sends_complete_exactly_once_through_a_storm(stack: Stack, storm: str) -> None:
    for wa_id in CUSTOMERS:
        stack.customer_says(wa_id, {"text": "Hello, is this in stock?"})
    stack.drain(lambda: len(_conversations(stack)) == len(CUSTOMERS) and stack.settled())
    stack.faults(storm)
    ids: list[int] = []
    with workspace_session(stack.db, stack.workspace_id) as session:
        now = stack.clock.now()
        for conversation_id in _conversations(stack):
            ids.append(
                queue_text(
                    session,
                    conversation_id=conversation_id,
                    body="Yes, in stock",
                    author_teammate_id=None,
                    now=now,
                ).id
            )
            ids.append(
                queue_template(
                    session,
                    conversation_id=conversation_id,
                    template_name="order_update",
                    language="en",
                    parameters=["KD-1", "ready"],
                    author_teammate_id=None,
                    now=now,
                ).id
            )
        session.commit()
    stack.drain(lambda: stack.settled() and set(_states(stack, ids)) == {"read"}, timeout=60)
    keys = sorted(s.callback_data or "" for s in stack.simulator.sends)
    assert keys == sorted(f"message:{i}" for i in ids)
    faults = [f for s in stack.simulator.sends for f in s.faults]
    if "timeout" in storm:
        assert "timeout" in faults, "the storm reached the sends"
    check_history(stack.db, stack.workspace_id, simulator_sends(stack.simulator.sends))
