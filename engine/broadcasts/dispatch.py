"""The job that queues a broadcast's sends, a chunk at a time.

Each chunk is one transaction: the recipients' rows (queued or skipped with the reason),
their conversations and messages, and the outbox rows that send them, whose idempotency
key names the broadcast and the contact. A worker killed mid-chunk leaves nothing of it;
one killed after the commit leaves it whole; the broadcast's lease expires and the
sweeper hands the rest out again, starting after the last contact written. The unique
(broadcast, contact) row and the unique outbox key make a second message to anyone
impossible, and the send itself is the outbox's, exactly-once as every send is.

Before each chunk it checks what WhatsApp allows: the number's messaging limit (different
customers written to first in 24 hours), a template Meta paused, send errors that mean
"slow down" (spam rate limit, quality), and the previous chunk still in the outbox. Then
it waits (the broadcast is due again later, with the reason shown) rather than sends.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.orm import Session

from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.broadcasts.audience import judge
from engine.contacts.segments import CHUNK, Segment, segment_query
from engine.conversations.threads import open_or_reuse_conversation
from engine.core.clock import Clock
from engine.core.rules import effects as fx
from engine.core.step.inputs import Actor
from engine.db import system_session, workspace_session
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.jobs.leases import claim
from engine.jobs.timing import job_timings
from engine.models import (
    ActorKind,
    Broadcast,
    BroadcastRecipient,
    BroadcastState,
    Contact,
    Message,
    OutboxRow,
    RecipientState,
)
from engine.whatsapp.account import template_refusal
from engine.workspaces.directory import ConfigDirectory

logger = logging.getLogger(__name__)

CHUNKS_PER_RUN = 20  # then the job ends and the sweeper hands out the rest
BACKLOG_WAIT = timedelta(seconds=20)
ERROR_PAUSE = timedelta(hours=1)
# Send errors after which WhatsApp wants the business to slow down or stop (reference §9).
PAUSE_CODES = ("131048", "131049", "368", "131031", "130429", "132015", "132016")
PAUSE_AFTER = 3  # that many of them in the last hour pause the broadcast


def broadcast_key(broadcast_id: int, contact_id: int) -> str:
    """The outbox idempotency key of one broadcast's message to one contact."""
    return f"broadcast:{broadcast_id}:contact:{contact_id}"


def queue_broadcast(
    *, broadcast_id: int, db: Engine, clock: Clock, configs: ConfigDirectory
) -> None:
    """Queue the broadcast's due chunks; safe to run twice, or at once in two workers."""
    for _ in range(CHUNKS_PER_RUN):
        now = clock.now()
        with system_session(db) as session:
            row = session.get(Broadcast, broadcast_id)
            if row is None or row.send_at > now:
                return
            workspace_id = row.workspace_id
            won = claim(
                session,
                Broadcast,
                broadcast_id,
                now=now,
                lease=job_timings().lease,
                ready_state=BroadcastState.SCHEDULED,
                working_state=BroadcastState.QUEUEING,
            )
            session.commit()
        if not won:
            return
        if not queue_chunk(db, configs, workspace_id, broadcast_id, now):
            return


def queue_chunk(
    db: Engine, configs: ConfigDirectory, workspace_id: int, broadcast_id: int, now: datetime
) -> bool:
    """One chunk of a claimed broadcast, in one transaction; True when more are owed now."""
    with workspace_session(db, workspace_id) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None or broadcast.state != BroadcastState.QUEUEING:
            return False
        rules = rules_in_force(session, configs, workspace_id)
        config = rules.config if rules is not None else None
        template = (
            next(
                (
                    t
                    for t in config.templates
                    if t.name == broadcast.template and t.language == broadcast.language
                ),
                None,
            )
            if config is not None
            else None
        )
        if config is None or template is None:
            broadcast.state = BroadcastState.CANCELLED
            broadcast.cancelled_at = now
            broadcast.last_error = (
                f"stopped: template {broadcast.template!r} ({broadcast.language}) is no "
                "longer in the workspace's config"
            )
            _release(broadcast)
            session.commit()
            return False
        wait = _reason_to_wait(session, broadcast, config.broadcasts.messaging_limit, now)
        if wait is not None:
            until, why = wait
            broadcast.state = BroadcastState.SCHEDULED
            broadcast.send_at = until
            broadcast.waiting_reason = why[:300]
            _release(broadcast)
            session.commit()
            logger.info("broadcast %s waits until %s: %s", broadcast_id, until, why)
            return False
        allowance = config.broadcasts.messaging_limit - _written_first(session, now)
        segment = Segment.from_json(dict(broadcast.segment or {}))
        ids = list(
            session.scalars(
                segment_query(segment, now).where(Contact.id > broadcast.cursor).limit(CHUNK)
            )
        )
        already = set(
            session.scalars(
                select(BroadcastRecipient.contact_id).where(
                    BroadcastRecipient.broadcast_id == broadcast.id,
                    BroadcastRecipient.contact_id.in_(ids),
                )
            )
        )
        desk = desk_for(session, rules)
        actor = Actor(ActorKind.SYSTEM, f"broadcast {broadcast.name}"[:100])
        pipeline = config.starting_pipeline(broadcast.business_number)
        finished = True
        for verdict in judge(session, ids, template, list(broadcast.variables)):
            if verdict.contact_id in already:
                broadcast.cursor = verdict.contact_id
                continue
            if verdict.reason is not None:
                _recipient(session, broadcast, verdict.contact_id, now, reason=verdict.reason)
                broadcast.cursor = verdict.contact_id
                continue
            if allowance <= 0:
                finished = False
                break
            effects: list[fx.Effect] = [
                fx.SendTemplate(
                    "", template=template.name, language=template.language, variables=verdict.values
                )
            ]
            try:
                with session.begin_nested():
                    conversation, opened = open_or_reuse_conversation(
                        session,
                        contact_id=verdict.contact_id,
                        business_number=broadcast.business_number,
                        now=now,
                    )
                    if opened and pipeline is not None:
                        effects.insert(
                            0, fx.MoveStage("", pipeline=pipeline.name, stage=pipeline.initial)
                        )
                    applied = desk.change(conversation.id, actor, effects, now)
                    persisted = applied.persisted
                    if persisted is None or not persisted.messages:
                        raise InvalidInput("the template was not queued")
                    message_id = persisted.messages[0]
                    _name_outbox_row(session, message_id, broadcast.id, verdict.contact_id)
            except (Conflict, InvalidInput, NotFound) as refused:
                _recipient(session, broadcast, verdict.contact_id, now, reason=str(refused))
            else:
                _recipient(
                    session,
                    broadcast,
                    verdict.contact_id,
                    now,
                    message_id=message_id,
                    conversation_id=conversation.id,
                )
                allowance -= 1
            broadcast.cursor = verdict.contact_id
        if finished and len(ids) < CHUNK:
            broadcast.state = BroadcastState.QUEUED
            broadcast.queued_at = now
        else:
            broadcast.state = BroadcastState.SCHEDULED
        broadcast.started_at = broadcast.started_at or now
        broadcast.waiting_reason = None
        _release(broadcast)
        session.commit()
        return broadcast.state == BroadcastState.SCHEDULED


def _release(broadcast: Broadcast) -> None:
    broadcast.lease_expires_at = None
    broadcast.enqueued_at = None


def _recipient(
    session: Session,
    broadcast: Broadcast,
    contact_id: int,
    now: datetime,
    *,
    reason: str | None = None,
    message_id: int | None = None,
    conversation_id: int | None = None,
) -> None:
    session.add(
        BroadcastRecipient(
            broadcast_id=broadcast.id,
            contact_id=contact_id,
            state=RecipientState.SKIPPED if reason else RecipientState.QUEUED,
            reason=reason[:300] if reason else None,
            message_id=message_id,
            conversation_id=conversation_id,
            queued_at=now,
        )
    )
    session.flush()


def _name_outbox_row(session: Session, message_id: int, broadcast_id: int, contact_id: int) -> None:
    """The send's outbox row takes the key of this broadcast and contact: the database
    refuses a second row with it, whatever happened before."""
    row = session.scalars(
        select(OutboxRow).where(OutboxRow.idempotency_key == f"message:{message_id}")
    ).one()
    row.idempotency_key = broadcast_key(broadcast_id, contact_id)
    session.flush()


def _written_first(session: Session, now: datetime) -> int:
    """Different customers broadcasts wrote to in the last 24 hours (the messaging limit)."""
    return int(
        session.scalar(
            select(func.count(distinct(BroadcastRecipient.contact_id))).where(
                BroadcastRecipient.state == RecipientState.QUEUED,
                BroadcastRecipient.queued_at > now - timedelta(hours=24),
            )
        )
        or 0
    )


def _reason_to_wait(
    session: Session, broadcast: Broadcast, limit: int, now: datetime
) -> tuple[datetime, str] | None:
    refusal = template_refusal(session, broadcast.template, broadcast.language)
    if refusal is not None:
        return now + ERROR_PAUSE, f"paused: {refusal[1]}"
    recent_errors = session.scalar(
        select(func.count())
        .select_from(BroadcastRecipient)
        .join(Message, Message.id == BroadcastRecipient.message_id)
        .where(
            BroadcastRecipient.broadcast_id == broadcast.id,
            Message.failure_code.in_(PAUSE_CODES),
            BroadcastRecipient.queued_at > now - ERROR_PAUSE,
        )
    )
    if recent_errors and recent_errors >= PAUSE_AFTER:
        return (
            now + ERROR_PAUSE,
            f"paused for an hour: WhatsApp refused {recent_errors} sends for rate or quality "
            "(errors " + ", ".join(PAUSE_CODES) + ")",
        )
    backlog = session.scalar(
        select(func.count())
        .select_from(BroadcastRecipient)
        .join(Message, Message.id == BroadcastRecipient.message_id)
        .where(
            BroadcastRecipient.broadcast_id == broadcast.id,
            Message.delivery_state.in_(("queued", "sending")),
        )
    )
    if backlog and backlog >= CHUNK:
        return now + BACKLOG_WAIT, f"sending the {backlog} messages already queued first"
    if _written_first(session, now) >= limit:
        oldest = session.scalar(
            select(func.min(BroadcastRecipient.queued_at)).where(
                BroadcastRecipient.state == RecipientState.QUEUED,
                BroadcastRecipient.queued_at > now - timedelta(hours=24),
            )
        )
        until = (oldest or now) + timedelta(hours=24, minutes=1)
        return until, (
            f"the number's messaging limit ({limit} customers in 24 hours, broadcasts.yaml) "
            f"is reached; continues at {until:%Y-%m-%d %H:%M} UTC"
        )
    return None
