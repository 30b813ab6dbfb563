"""Retention: what a workspace keeps of its customers' words, and for how long.

Once a day per workspace with `retention_days` set, the bodies and media of messages
older than that in resolved conversations are erased: the text, the media description,
the stored file, the raw delivery receipts (which name the customer's number) and the
AI's answers drawn from those words (a message's intent and extracted details, and the
conversation's summaries, which quote the customer; staff can ask for a new one). The
skeleton stays: the message row with its direction, type, author and times, so volumes,
response times, stage history and the report tallies are unchanged. Open conversations
keep everything until they are resolved, so nobody loses the thread they are answering.
Every run is written to the audit log with counts, never content.

See README "Privacy and retention" for how this answers Kenya's Data Protection Act 2019
(s. 39: kept no longer than needed for the purpose) and GDPR art. 5(1)(e).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, Select, delete, func, null, or_, select, update
from sqlalchemy.orm import Session

from engine.core.clock import Clock
from engine.db import system_session, workspace_session
from engine.jobs.periodic import PeriodicThread
from engine.models import (
    AiResult,
    AuditLog,
    Conversation,
    ConversationStatus,
    MediaFile,
    Message,
    MessageStatusEvent,
    Workspace,
)

logger = logging.getLogger(__name__)

ACTION = "retention.applied"
EVERY = timedelta(days=1)
INTERVAL = timedelta(hours=1)  # the thread looks hourly; each workspace runs once a day
BATCH = 5000


@dataclass(frozen=True)
class RetentionRun:
    workspace_id: int
    cutoff: datetime
    messages: int
    files: int
    receipts: int
    ai_results: int = 0


def apply_retention(session: Session, workspace: Workspace, now: datetime) -> RetentionRun | None:
    """Erase what `workspace` no longer keeps; None when it keeps everything. Flushes and
    records the run in the audit log; the caller commits."""
    if not workspace.retention_days or workspace.retention_days <= 0:
        return None
    cutoff = now - timedelta(days=workspace.retention_days)
    resolved = select(Conversation.id).where(Conversation.status == ConversationStatus.RESOLVED)
    old = select(Message.id).where(
        Message.conversation_id.in_(resolved),
        func.coalesce(Message.provider_timestamp, Message.created_at) < cutoff,
        or_(
            Message.body.is_not(None),
            Message.media.is_not(None),
            Message.failure_detail.is_not(None),
        ),
    )
    messages = files = receipts = last = 0
    while True:  # by id, so a row whose media is a JSON null is passed once, not forever
        ids = list(session.scalars(old.where(Message.id > last).order_by(Message.id).limit(BATCH)))
        if not ids:
            break
        last = ids[-1]
        files += _count(session.execute(delete(MediaFile).where(MediaFile.message_id.in_(ids))))
        receipts += _count(
            session.execute(
                update(MessageStatusEvent)
                .where(MessageStatusEvent.message_id.in_(ids))
                .values(raw={})
                .execution_options(synchronize_session=False)
            )
        )
        messages += _count(
            session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(body=None, media=null(), failure_detail=None)
                .execution_options(synchronize_session=False)
            )
        )
    ai_results = _erase_ai_results(session, resolved, cutoff)
    run = RetentionRun(workspace.id, cutoff, messages, files, receipts, ai_results)
    session.add(
        AuditLog(
            actor_kind="system",
            actor_name="retention",
            action=ACTION,
            subject_kind="workspace",
            subject_id=workspace.id,
            detail={
                "retention_days": workspace.retention_days,
                "cutoff": cutoff.isoformat(),
                "messages_erased": messages,
                "files_deleted": files,
                "receipts_cleared": receipts,
                "ai_results_erased": ai_results,
            },
            at=now,
        )
    )
    session.flush()
    return run


def _erase_ai_results(session: Session, resolved: Select[tuple[int]], cutoff: datetime) -> int:
    """The AI's answers about messages past the limit, and the summaries of conversations
    that have such messages: both repeat the customer's words."""
    old = select(Message.id).where(
        Message.conversation_id.in_(resolved),
        func.coalesce(Message.provider_timestamp, Message.created_at) < cutoff,
    )
    touched = select(Message.conversation_id).where(Message.id.in_(old))
    return _count(
        session.execute(
            delete(AiResult)
            .where(
                or_(
                    AiResult.message_id.in_(old),
                    AiResult.message_id.is_(None) & AiResult.conversation_id.in_(touched),
                )
            )
            .execution_options(synchronize_session=False)
        )
    )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _ran_recently(session: Session, now: datetime) -> bool:
    last = session.scalar(select(func.max(AuditLog.at)).where(AuditLog.action == ACTION))
    return last is not None and now - last < EVERY - timedelta(minutes=5)


def run_due_retention(db: Engine, now: datetime) -> list[RetentionRun]:
    """Each workspace with a retention period whose daily run is due, in its own transaction."""
    with system_session(db) as session:
        due = list(
            session.scalars(select(Workspace.id).where(Workspace.retention_days.is_not(None)))
        )
    runs = []
    for workspace_id in due:
        with workspace_session(db, workspace_id) as session:
            workspace = session.get(Workspace, workspace_id)
            if workspace is None or _ran_recently(session, now):
                continue
            run = apply_retention(session, workspace, now)
            session.commit()
            if run is not None:
                runs.append(run)
    return runs


def retention_thread(db: Engine, clock: Clock) -> PeriodicThread:
    def look() -> None:
        for run in run_due_retention(db, clock.now()):
            logger.info(
                "retention in workspace %d: %d message(s) erased, %d file(s) deleted",
                run.workspace_id,
                run.messages,
                run.files,
            )

    return PeriodicThread("kazi-retention", look, INTERVAL)
