"""The history checker itself must catch what it promises to catch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import workspace_session
from engine.models import Conversation, Message
from engine.outbox.sends import queue_text
from tests.reliability.harness import Stack
from tests.reliability.history import AcceptedSend, check_history, simulator_sends

pytestmark = pytest.mark.services


def _one_read_reply(stack: Stack) -> int:
    stack.customer_says("254722700001", {"text": "Habari"})

    def conversation() -> int | None:
        with workspace_session(stack.db, stack.workspace_id) as session:
            return session.scalar(select(Conversation.id))

    stack.drain(lambda: conversation() is not None and stack.settled())
    with workspace_session(stack.db, stack.workspace_id) as session:
        conversation_id = conversation()
        assert conversation_id is not None
        message_id = queue_text(
            session,
            conversation_id=conversation_id,
            body="Karibu",
            author_teammate_id=None,
            now=stack.clock.now(),
        ).id
        session.commit()

    def read() -> bool:
        with workspace_session(stack.db, stack.workspace_id) as session:
            message = session.get(Message, message_id)
            return message is not None and message.delivery_state == "read"

    stack.drain(lambda: stack.settled() and read())
    return message_id


def test_it_catches_a_double_send_a_backward_state_and_a_lost_webhook(stack: Stack) -> None:
    message_id = _one_read_reply(stack)
    sends = simulator_sends(stack.simulator.sends)
    check_history(stack.db, stack.workspace_id, sends)  # the true history passes

    with pytest.raises(AssertionError, match="sent 2 times"):
        check_history(stack.db, stack.workspace_id, [*sends, sends[0]])
    with pytest.raises(AssertionError, match="answered 200 but not stored"):
        check_history(stack.db, stack.workspace_id, sends, delivered_wamids=["wamid.never"])
    with pytest.raises(AssertionError, match="done but sent 0 times"):
        check_history(stack.db, stack.workspace_id, [AcceptedSend("wamid.x", "message:0")])
    with workspace_session(stack.db, stack.workspace_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.delivery_state = "delivered"  # as if a late status moved it back
        session.commit()
    with pytest.raises(AssertionError, match="is delivered after"):
        check_history(stack.db, stack.workspace_id, sends)
