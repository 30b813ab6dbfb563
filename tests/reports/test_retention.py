"""Retention: old words of resolved conversations are erased daily, the skeleton and the
report tallies stay, open conversations keep everything, and every run is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.conversations.tallies import rebuild, stored
from engine.core.rules.calendar import BusinessCalendar
from engine.db import system_session, unit_of_work, workspace_session
from engine.models import (
    AiResult,
    AuditLog,
    AuthorKind,
    Contact,
    Conversation,
    Direction,
    MediaFile,
    Message,
    MessageStatusEvent,
    Workspace,
)
from engine.workspaces.retention import ACTION, run_due_retention

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _thread(session: Session, status: str, ages: list[int]) -> list[int]:
    """A conversation with one customer photo per age (days), each with a file and a receipt."""
    contact = Contact(profile_name="Achieng")
    session.add(contact)
    session.flush()
    opened = NOW - timedelta(days=max(ages) + 1)
    conversation = Conversation(
        contact_id=contact.id,
        business_number="+254711502300",
        status=status,
        opened_at=opened,
        resolved_at=NOW - timedelta(days=min(ages)) if status == "resolved" else None,
    )
    session.add(conversation)
    session.flush()
    ids = []
    for age in ages:
        message = Message(
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            type="image",
            body=f"photo of my receipt, {age} days ago",
            media={"caption": "receipt", "mime_type": "image/jpeg"},
            author_kind=AuthorKind.CONTACT,
            author_contact_id=contact.id,
            provider_timestamp=NOW - timedelta(days=age),
        )
        session.add(message)
        session.flush()
        session.add(
            MediaFile(
                message_id=message.id,
                origin="inbound",
                sha256="0" * 64,
                mime_type="image/jpeg",
                size=3,
                content=b"jpg",
                created_at=message.provider_timestamp,
            )
        )
        session.add(
            MessageStatusEvent(
                message_id=message.id,
                status="read",
                raw={"recipient_id": "254722000001"},
                recorded_at=NOW,
            )
        )
        ids.append(message.id)
    return ids


def test_old_words_go_the_skeleton_and_the_tallies_stay(db: Engine, workspace_id: int) -> None:
    with system_session(db) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.retention_days = 30
        session.commit()
    with unit_of_work(db, workspace_id) as session:
        old, recent = _thread(session, "resolved", [40, 5])
        [still_open] = _thread(session, "open", [90])
        rebuild(session, workspace_id, BusinessCalendar())
    with workspace_session(db, workspace_id) as session:
        tallies = stored(session).rows()

    [run] = run_due_retention(db, NOW)
    assert (run.messages, run.files, run.receipts) == (1, 1, 1)

    with workspace_session(db, workspace_id) as session:
        erased = session.get(Message, old)
        assert erased is not None
        assert (erased.body, erased.media) == (None, None)
        assert (erased.direction, erased.type, erased.provider_timestamp) == (
            "inbound",
            "image",
            NOW - timedelta(days=40),
        )
        kept = [session.get(Message, i) for i in (recent, still_open)]
        assert all(m is not None and m.body and m.media for m in kept)
        files = {f.message_id for f in session.scalars(select(MediaFile))}
        assert files == {recent, still_open}
        receipts = {e.message_id: e.raw for e in session.scalars(select(MessageStatusEvent))}
        assert receipts[old] == {} and receipts[recent] == {"recipient_id": "254722000001"}
        assert stored(session).rows() == tallies  # reports do not change
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == ACTION))
        assert entry.detail["messages_erased"] == 1
        assert entry.detail["retention_days"] == 30
        assert "photo" not in str(entry.detail)  # counts, never content

    # Once a day: an hour later nothing runs; the next day runs (and is recorded) again.
    assert run_due_retention(db, NOW + timedelta(hours=1)) == []
    [again] = run_due_retention(db, NOW + timedelta(days=1))
    assert again.messages == 0
    with workspace_session(db, workspace_id) as session:
        assert len(session.scalars(select(AuditLog).where(AuditLog.action == ACTION)).all()) == 2


def test_a_workspace_without_a_period_keeps_everything(db: Engine, workspace_id: int) -> None:
    with unit_of_work(db, workspace_id) as session:
        [old] = _thread(session, "resolved", [400])
    assert all(run.workspace_id != workspace_id for run in run_due_retention(db, NOW))
    with workspace_session(db, workspace_id) as session:
        message = session.get(Message, old)
        assert message is not None and message.body
        assert session.scalars(select(AuditLog).where(AuditLog.action == ACTION)).first() is None


def _ai(session: Session, message_id: int, job: str) -> int:
    """An AI answer quoting the customer: a message's details, or (summarise) the summary
    of the message's thread."""
    message = session.get(Message, message_id)
    assert message is not None
    row = AiResult(
        conversation_id=message.conversation_id,
        message_id=None if job == "summarise" else message_id,
        job=job,
        result={"sentences": ["photo of my receipt"], "phones": ["254722000001"]},
        source="offline",
        confidence=0.8,
        at=NOW - timedelta(days=1),
    )
    session.add(row)
    session.flush()
    return row.id


def test_ai_answers_drawn_from_erased_words_go_too(db: Engine, workspace_id: int) -> None:
    with system_session(db) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.retention_days = 30
        session.commit()
    with unit_of_work(db, workspace_id) as session:
        old, recent = _thread(session, "resolved", [40, 5])
        [still_open] = _thread(session, "open", [90])
        old_details = _ai(session, old, "extract")
        recent_intent = _ai(session, recent, "classify")
        open_intent = _ai(session, still_open, "classify")
        summary = _ai(session, recent, "summarise")
        open_summary = _ai(session, still_open, "summarise")

    [run] = run_due_retention(db, NOW)
    assert run.ai_results == 2

    with workspace_session(db, workspace_id) as session:
        left = set(session.scalars(select(AiResult.id)))
        assert left == {recent_intent, open_intent, open_summary}
        assert old_details not in left and summary not in left
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == ACTION))
        assert entry.detail["ai_results_erased"] == 2
