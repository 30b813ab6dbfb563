"""Keeping the report tallies current as the engine writes, and recounting them from scratch.

Three hooks, each called in the writer's transaction:
- `refresh_conversation` after the adapter persists an Outcome (opened, resolved, first
  response, SLA clocks): it moves the difference between what the conversation
  contributed last time (its `ReportMark`) and what it contributes now;
- `stage_moved` when a stage history row is written (entries, exits, time in stage);
- `message_stored` when a message row is written (volume per hour of the week).

`recount` computes the same tallies from the record alone; `rebuild` replaces the stored
tallies with it (after a restore, or when the calendar changed and old figures should follow).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from typing import cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.core.rules.calendar import BusinessCalendar
from engine.core.step import StageMoved
from engine.core.tallies import (
    ClockFacts,
    ConversationFacts,
    Tally,
    TallyKey,
    contribution,
    message_contribution,
    stage_contribution,
    zone_of,
)
from engine.db import batch_cache
from engine.models import (
    AuthorKind,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    ReportMark,
    ReportTally,
    SlaClock,
    StageHistory,
    Workspace,
)
from engine.models.reports import TALLY_KEY
from engine.models.scoping import session_workspace


def workspace_zone(session: Session, workspace_id: int) -> tzinfo:
    cache = batch_cache(session)
    key = f"zone:{workspace_id}"
    if cache is not None and key in cache:
        return cast(tzinfo, cache[key])
    workspace = session.get(Workspace, workspace_id)
    zone = zone_of(workspace.timezone if workspace else None)
    if cache is not None:
        cache[key] = zone
    return zone


def add_tally(session: Session, workspace_id: int, tally: Tally) -> None:
    """Add `tally` to the stored rows (insert or increment), in key order so two
    writers never wait on each other's rows in opposite orders."""
    rows = tally.rows()
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for key in sorted(rows):
        count, total = rows[key]
        statement = insert(ReportTally).values(
            workspace_id=workspace_id, count=count, total=total, **key.as_row()
        )
        statement = statement.on_conflict_do_update(
            index_elements=list(TALLY_KEY),
            set_={
                "count": ReportTally.count + statement.excluded.count,
                "total": ReportTally.total + statement.excluded.total,
            },
        )
        session.execute(statement)


# ----- conversations ------------------------------------------------------------------
def _first_responses(session: Session, conversation_ids: list[int] | None) -> dict[int, datetime]:
    query = (
        select(Message.conversation_id, func.min(Message.provider_timestamp))
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.author_kind == AuthorKind.TEAMMATE,
            Message.provider_timestamp.is_not(None),
        )
        .group_by(Message.conversation_id)
    )
    if conversation_ids is not None:
        query = query.where(Message.conversation_id.in_(conversation_ids))
    return {cid: at for cid, at in session.execute(query) if at is not None}


def _clocks(session: Session, conversation_ids: list[int] | None) -> dict[int, list[ClockFacts]]:
    query = select(SlaClock).order_by(SlaClock.id)
    if conversation_ids is not None:
        query = query.where(SlaClock.conversation_id.in_(conversation_ids))
    found: dict[int, list[ClockFacts]] = defaultdict(list)
    for clock in session.scalars(query):
        found[clock.conversation_id].append(
            ClockFacts(clock.policy, clock.kind, clock.stopped_at, clock.met, clock.breached_at)
        )
    return found


def _facts(
    conversation: Conversation, first_response_at: datetime | None, clocks: list[ClockFacts]
) -> ConversationFacts:
    resolved = conversation.status == ConversationStatus.RESOLVED
    return ConversationFacts(
        opened_at=conversation.opened_at,
        number=conversation.business_number,
        teammate_id=conversation.owner_id or 0,
        team_id=conversation.team_id or 0,
        pipeline=conversation.pipeline or "",
        resolved_at=conversation.resolved_at if resolved else None,
        first_response_at=first_response_at,
        clocks=tuple(clocks),
    )


def refresh_conversation(
    session: Session, conversation: Conversation, calendar: BusinessCalendar
) -> None:
    """Bring the tallies in line with `conversation` as it is now (flushed or not)."""
    session.flush()
    mark = session.scalars(
        select(ReportMark).where(ReportMark.conversation_id == conversation.id)
    ).first()
    before = ConversationFacts.from_json(mark.facts) if mark and mark.facts else None
    first = before.first_response_at if before else None
    if first is None:
        first = _first_responses(session, [conversation.id]).get(conversation.id)
    clocks = _clocks(session, [conversation.id]).get(conversation.id, [])
    after = _facts(conversation, first, clocks)
    if after == before:
        return
    zone = workspace_zone(session, conversation.workspace_id)
    delta = contribution(after, zone, calendar).minus(contribution(before, zone, calendar))
    add_tally(session, conversation.workspace_id, delta)
    if mark is None:
        session.add(ReportMark(conversation_id=conversation.id, facts=after.to_json()))
    else:
        mark.facts = after.to_json()
    session.flush()


# ----- stages and messages ---------------------------------------------------------------
def stage_moved(
    session: Session, subject_kind: str, subject_id: int, move: StageMoved, at: datetime
) -> None:
    """Count a stage move whose history row is about to be written (it needs the last one)."""
    previous = session.scalar(
        select(StageHistory.at)
        .where(StageHistory.subject_kind == subject_kind, StageHistory.subject_id == subject_id)
        .order_by(StageHistory.at.desc(), StageHistory.id.desc())
        .limit(1)
    )
    workspace_id = session_workspace(session)
    if workspace_id is None:
        raise RuntimeError("report tallies are written in a workspace session")
    tally = stage_contribution(
        at=at,
        pipeline=move.pipeline,
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        teammate_id=move.actor.id if move.actor.is_person else None,
        entered_previous_at=previous,
        zone=workspace_zone(session, workspace_id),
    )
    add_tally(session, workspace_id, tally)


def message_stored(session: Session, message: Message, conversation: Conversation) -> None:
    """Count a message just written (its provider_timestamp is when it was sent)."""
    at = message.provider_timestamp or message.created_at
    tally = message_contribution(
        at=at,
        inbound=message.direction == Direction.INBOUND,
        number=conversation.business_number,
        teammate_id=message.author_teammate_id,
        zone=workspace_zone(session, conversation.workspace_id),
    )
    add_tally(session, conversation.workspace_id, tally)


# ----- from scratch ------------------------------------------------------------------------
def recount(session: Session, workspace_id: int, calendar: BusinessCalendar) -> Tally:
    """Every tally of the workspace computed from the record alone."""
    zone = workspace_zone(session, workspace_id)
    tally = Tally()
    firsts = _first_responses(session, None)
    clocks = _clocks(session, None)
    numbers: dict[int, str] = {}
    for conversation in session.scalars(select(Conversation).order_by(Conversation.id)):
        numbers[conversation.id] = conversation.business_number
        facts = _facts(conversation, firsts.get(conversation.id), clocks.get(conversation.id, []))
        tally.update(contribution(facts, zone, calendar))
    entered: dict[tuple[str, int], datetime] = {}
    history = select(StageHistory).order_by(StageHistory.at, StageHistory.id)
    for row in session.scalars(history):
        subject = (row.subject_kind, row.subject_id)
        tally.update(
            stage_contribution(
                at=row.at,
                pipeline=row.pipeline,
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                teammate_id=row.actor_teammate_id,
                entered_previous_at=entered.get(subject),
                zone=zone,
            )
        )
        entered[subject] = row.at
    messages = select(
        Message.conversation_id,
        Message.direction,
        Message.author_teammate_id,
        func.coalesce(Message.provider_timestamp, Message.created_at),
    )
    for conversation_id, direction, teammate_id, at in session.execute(messages):
        tally.update(
            message_contribution(
                at=at,
                inbound=direction == Direction.INBOUND,
                number=numbers.get(conversation_id, ""),
                teammate_id=teammate_id,
                zone=zone,
            )
        )
    return tally


def stored(session: Session) -> Tally:
    """The tallies as stored for the session's workspace."""
    tally = Tally()
    for row in session.scalars(select(ReportTally)):
        key = TallyKey(
            row.day,
            row.measure,
            row.teammate_id,
            row.team_id,
            row.number,
            row.pipeline,
            row.stage,
            row.policy,
            row.clock,
            row.slot,
        )
        tally.add(key, 0, row.count)
        tally[(key, "total")] += row.total
    return tally


def rebuild(session: Session, workspace_id: int, calendar: BusinessCalendar) -> None:
    """Replace the stored tallies and marks with a recount (inserted in bulk)."""
    session.execute(delete(ReportTally))
    session.execute(delete(ReportMark))
    rows = recount(session, workspace_id, calendar).rows()
    values = [
        {"workspace_id": workspace_id, "count": count, "total": total, **key.as_row()}
        for key, (count, total) in sorted(rows.items())
    ]
    for start in range(0, len(values), 10_000):
        session.execute(insert(ReportTally), values[start : start + 10_000])
    firsts = _first_responses(session, None)
    clocks = _clocks(session, None)
    marks = [
        {
            "workspace_id": workspace_id,
            "conversation_id": conversation.id,
            "facts": _facts(
                conversation, firsts.get(conversation.id), clocks.get(conversation.id, [])
            ).to_json(),
        }
        for conversation in session.scalars(select(Conversation))
    ]
    for start in range(0, len(marks), 10_000):
        session.execute(insert(ReportMark), marks[start : start + 10_000])
    session.flush()
