"""A broadcast through the whole stack (Kazi's web app, the job queue, the sweeper, the
simulated WhatsApp over HTTP): a worker killed right after one of its sends left must not
make anyone receive the broadcast twice, and a customer's STOP shows in its report."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.auth.principal import Principal, Role
from engine.broadcasts import Draft, broadcast_report, create_broadcast
from engine.contacts import NewContact, add_contact
from engine.contacts.segments import Segment, save_segment
from engine.db import workspace_session
from engine.jobs.timing import job_timings
from engine.models import Broadcast, BroadcastRecipient, Message
from tests.reliability.harness import Stack, WorkerKilled

pytestmark = pytest.mark.services

CUSTOMERS = ("254722300101", "254722300102", "254722300103")


def test_a_worker_killed_mid_broadcast_sends_nobody_twice(stack: Stack) -> None:
    manager = Principal(stack.workspace_id, Role.MANAGER, "Wanjiku")
    now = stack.clock.now()
    with workspace_session(stack.db, stack.workspace_id) as session:
        for n, wa_id in enumerate(CUSTOMERS):
            add_contact(
                session,
                manager,
                NewContact(
                    name=f"Customer {n}",
                    number=f"+{wa_id}",
                    tags=("offers",),
                    opt_in="website form",
                ),
                now,
            )
        saved = save_segment(session, manager, "Offers", Segment.of("offers"), now)
        config = stack.runtime.configs.config(stack.slug)
        assert config is not None
        broadcast = create_broadcast(
            session,
            manager,
            config,
            Draft(
                name="Offer",
                template="weekly_offer",
                language="en",
                variables=("contact.first_name", "KES 500 off"),
                segment=f"saved:{saved.id}",
            ),
            now,
        )
        session.commit()
        broadcast_id = broadcast.id

    stack.kill_after_next_send = True  # the first send reaches WhatsApp, then the worker dies
    with pytest.raises(WorkerKilled):
        stack.drain(lambda: False, timeout=20)
    stack.clock.advance(job_timings().lease + timedelta(seconds=1))

    def all_read() -> bool:
        return stack.settled() and all(
            m.delivery_state == "read" for m in stack.messages() if m.direction == "outbound"
        )

    stack.drain(lambda: len(stack.messages()) == 3 and all_read())
    sends = Counter(s.to for s in stack.simulator.sends if s.kind == "template")
    assert sends == dict.fromkeys(CUSTOMERS, 1)
    with workspace_session(stack.db, stack.workspace_id) as session:
        recipients = list(session.scalars(select(BroadcastRecipient)))
        assert [r.state for r in recipients] == ["queued"] * 3
        broadcast_row = session.get(Broadcast, broadcast_id)
        assert broadcast_row is not None and broadcast_row.state == "queued"
        failed = session.scalars(select(Message).where(Message.failure_code.is_not(None))).all()
        assert failed == []  # the cut-off send was matched by its status's key

    stack.customer_says(CUSTOMERS[1], {"text": "STOP"})
    stack.drain(lambda: stack.settled() and len(stack.messages()) >= 5)
    with workspace_session(stack.db, stack.workspace_id) as session:
        report = broadcast_report(
            session, manager, broadcast_id, timedelta(days=3), stack.clock.now()
        )
    assert (report.recipients, report.sent, report.read, report.opted_out) == (3, 3, 3, 1)
    assert report.replied == 0
