"""What went wrong in a played scenario: unmet expectations, and work the engine left undone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from connectors.whatsapp.fake import FakeSender
from engine.db import workspace_session
from engine.models import AuditLog, InboundEvent, Message, OutboxRow, ScheduledAction
from tests.scenarios_e2e.expectations import compare
from tests.scenarios_e2e.facts import read_record
from tests.scenarios_e2e.playback import Playback


def failures(db: Engine, playback: Playback, sender: FakeSender, spec: dict[str, Any]) -> list[str]:
    """Empty when the database bears out the scenario's `expect` and nothing was left undone."""
    with workspace_session(db, playback.workspace_id) as session:
        record = read_record(session, playback.conversation_id, playback.graph)
        found = compare(spec["expect"], record)
        found += _left_undone(session, sender)
    return found


def _left_undone(session: Any, sender: FakeSender) -> list[str]:
    problems = []
    events = list(session.scalars(select(InboundEvent).where(InboundEvent.state != "processed")))
    problems += [f"inbound event {e.id} is {e.state}: {e.last_error}" for e in events]
    # Only sends must be carried out: build_runtime wires no executor for the
    # `payment.request` and `integration.call` rows rules write, so those end `failed`
    # ("no executor for outbox kind") until an M-Pesa and a webhook executor exist.
    sends = list(session.scalars(select(OutboxRow).where(OutboxRow.kind == "whatsapp.send")))
    problems += [f"send {r.id} is {r.state}: {r.last_error}" for r in sends if r.state != "done"]
    messages = list(session.scalars(select(Message).where(Message.direction == "outbound")))
    problems += [
        f"outbound message {m.id} is {m.delivery_state}"
        for m in messages
        if m.delivery_state != "accepted"
    ]
    if len(sender.accepted()) != len(messages):
        problems.append(f"{len(messages)} messages queued, {len(sender.accepted())} sent")
    actions = list(
        session.scalars(select(ScheduledAction).where(ScheduledAction.state == "failed"))
    )
    problems += [f"scheduled action {a.id} failed: {a.outcome}" for a in actions]
    stopped = list(session.scalars(select(AuditLog).where(AuditLog.action == "rule_stopped")))
    problems += [f"rule stopped: {a.detail}" for a in stopped]
    return problems
