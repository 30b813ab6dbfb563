"""A worker that dies after its send left but before it heard the answer must not
make the next worker send again (the bug: a re-claimed row in `sending` was resent)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.db import workspace_session
from engine.jobs.timing import job_timings
from engine.models import Conversation, Message, OutboxRow
from engine.outbox.sends import queue_text
from tests.reliability.harness import Stack, WorkerKilled
from tests.reliability.history import check_history, simulator_sends

pytestmark = pytest.mark.services


def test_a_send_cut_off_by_a_dead_worker_is_never_sent_twice(stack: Stack) -> None:
    stack.customer_says("254722300001", {"text": "Is my parcel out?"})

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
            body="Yes, on its way",
            author_teammate_id=None,
            now=stack.clock.now(),
        ).id
        session.commit()
    stack.kill_after_next_send = True
    with pytest.raises(WorkerKilled):
        stack.drain(lambda: False, timeout=10)
    with workspace_session(stack.db, stack.workspace_id) as session:
        row = session.scalars(select(OutboxRow)).one()
        assert row.state == "sending"  # the dead worker's lease still holds it
    stack.clock.advance(job_timings().lease + timedelta(seconds=1))

    def read() -> bool:
        with workspace_session(stack.db, stack.workspace_id) as session:
            message = session.get(Message, message_id)
            return message is not None and message.delivery_state == "read"

    stack.drain(lambda: stack.settled() and read())
    assert len(stack.simulator.sends) == 1
    with workspace_session(stack.db, stack.workspace_id) as session:
        row = session.scalars(select(OutboxRow)).one()
        message = session.get(Message, message_id)
        assert message is not None and message.failure_code is None
        assert row.state == "done"  # reconciled by the status carrying its key
    check_history(stack.db, stack.workspace_id, simulator_sends(stack.simulator.sends))
