"""The builder's simulation: the last days' real customer messages of this workspace,
played through the rule reducer under the config in force and under the draft.

For each conversation a customer wrote in during the period (the most recent ones, up to
a bound), the state is loaded as the engine loads it, then rewound to the period's start
as far as the record allows: the stage it was in then (stage history), no pending
delays, no SLA clocks, no recent firings. Its customer messages are fed in order as
`message received`, delayed blocks and due tasks fire as time passes, up to the end of
the period. Both configs see exactly the same inputs, so the difference is the draft's.

What it does not replay: what staff did in between (replies, assignments, moves by
hand), payments and integrations. It answers "what would the rules have done with the
customers' messages", not "what would the whole week have looked like". Nothing is
written: the session is only read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsl.scenarios import _Play, plain
from engine.automation.state import load_directory, load_states
from engine.conversations.messages import message_view
from engine.core.rules.effects import (
    AddTag,
    CreateTask,
    Effect,
    Held,
    MoveStage,
    Notify,
    Remind,
    ScheduleDelayed,
    SendTemplate,
    SendText,
)
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.rules.graph import RuleGraph
from engine.core.step.state import EMPTY, State
from engine.models import Message, StageHistory
from engine.models.states import Direction

DAYS = 7
MOST_CONVERSATIONS = 300  # the most recent ones: a preview must come back in seconds


@dataclass(frozen=True)
class Line:
    what: str  # "messages sent to customers", "moves to stage quote", "tasks for brian"
    before: int  # under the config in force
    after: int  # under the draft

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def sentence(self) -> str:
        if not self.changed:
            return f"{self.what}: {self.after}, as now"
        return f"{self.what}: {self.after} instead of {self.before}"


@dataclass(frozen=True)
class Simulation:
    since: datetime
    until: datetime
    conversations: int
    messages: int
    lines: tuple[Line, ...]
    capped: bool  # more conversations than MOST_CONVERSATIONS had messages

    @property
    def changed(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.changed)


def _recipient(effect: Any, state: State) -> str:
    recipient = getattr(effect, "recipient", None) or getattr(effect, "assignee", None)
    if recipient is None:
        return "nobody"
    if recipient.kind == "owner":
        return recipient.name or state.conversation.owner or "the owner"
    return f"team {recipient.name}" if recipient.kind == "team" else str(recipient.name)


def _count(effects: list[Effect], state: State) -> Counter[str]:
    counts: Counter[str] = Counter()
    for effect in effects:
        match effect:
            case SendTemplate() | SendText():
                counts["messages sent to customers"] += 1
            case Held():
                counts["sends held for staff (a value was empty)"] += 1
            case MoveStage():
                counts[f"moves to stage {effect.stage}"] += 1
            case CreateTask():
                counts[f"tasks for {_recipient(effect, state)}"] += 1
            case Remind():
                counts[f"reminders for {_recipient(effect, state)}"] += 1
            case Notify():
                counts[f"notifications for {_recipient(effect, state)}"] += 1
            case AddTag():
                counts[f"tags {effect.tag}"] += 1
            case ScheduleDelayed():
                counts["follow-ups scheduled"] += 1
    return counts


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _rewound(state: State, stage: str | None, fresh: bool) -> State:
    conversation = replace(
        state.conversation,
        stage=stage,
        pipeline=None if fresh else state.conversation.pipeline,
        status="open",
        snoozed_until=None,
    )
    return replace(state, conversation=conversation, pending=(), clocks=(), recent_firings=EMPTY)


def _play(
    graph: RuleGraph, state: State, events: list[DomainEvent], until: datetime
) -> Counter[str]:
    play = _Play(graph, state)
    for event in events:
        play.advance(event.occurred_at)
        play.receive(event)
    play.advance(until)
    return _count(play.effects, play.state)


def simulate(
    session: Session, before: RuleGraph, after: RuleGraph, until: datetime, days: int = DAYS
) -> Simulation:
    """What the rules under `before` and under `after` do with the customer messages of
    the `days` before `until`, in the session's workspace."""
    since = until - timedelta(days=days)
    when = func.coalesce(Message.provider_timestamp, Message.created_at)
    recent = (
        select(Message.conversation_id, func.max(when).label("last"))
        .where(Message.direction == Direction.INBOUND, when >= since, when < until)
        .group_by(Message.conversation_id)
        .order_by(func.max(when).desc())
        .limit(MOST_CONVERSATIONS + 1)
    )
    ids = [row.conversation_id for row in session.execute(recent)]
    capped = len(ids) > MOST_CONVERSATIONS
    ids = sorted(ids[:MOST_CONVERSATIONS])
    config = after.config or before.config
    if not ids or config is None:
        return Simulation(since, until, 0, 0, (), False)
    states = load_states(session, ids, config, until, load_directory(session))
    # The stage each was in when the period began: after its last move before it, or
    # before its first move since; a conversation never moved is where it is now.
    stages: dict[int, str | None] = {}
    for moved in session.scalars(
        select(StageHistory)
        .where(StageHistory.subject_kind == "conversation", StageHistory.subject_id.in_(ids))
        .order_by(StageHistory.at, StageHistory.id)
    ):
        if _aware(moved.at) < since:
            stages[moved.subject_id] = moved.to_stage
        elif moved.subject_id not in stages:
            stages[moved.subject_id] = moved.from_stage
    events: dict[int, list[DomainEvent]] = {i: [] for i in ids}
    messages = 0
    for message in session.scalars(
        select(Message)
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == Direction.INBOUND,
            when >= since,
            when < until,
        )
        .order_by(when, Message.id)
    ):
        at = _aware(message.provider_timestamp or message.created_at)
        data = plain({"message": message_view(message)})
        events[message.conversation_id].append(
            DomainEvent(
                TriggerKind.MESSAGE_RECEIVED.value, f"simulated:{message.id}", at, data=data
            )
        )
        messages += 1
    totals = {"before": Counter[str](), "after": Counter[str]()}
    for conversation_id in ids:
        state = states.get(conversation_id)
        if state is None:
            continue
        opened = state.conversation.opened_at
        fresh = opened is not None and _aware(opened) >= since
        feed = events[conversation_id]
        if fresh and feed:
            # Opened within the period: the engine's `conversation opened` comes with the
            # first message, and puts it in its pipeline's first stage.
            stage = None
            first = feed[0]
            feed = [
                DomainEvent(
                    TriggerKind.CONVERSATION_OPENED.value,
                    f"simulated-open:{conversation_id}",
                    first.occurred_at,
                    data=first.data,
                ),
                *feed,
            ]
        else:
            stage = stages.get(conversation_id, state.conversation.stage)
        start = _rewound(state, stage, fresh and bool(feed))
        for name, graph in (("before", before), ("after", after)):
            totals[name] += _play(graph, start, feed, until)
    keys = sorted(set(totals["before"]) | set(totals["after"]))
    lines = tuple(Line(k, totals["before"][k], totals["after"][k]) for k in keys)
    # What changed first, then the rest.
    lines = tuple(sorted(lines, key=lambda line: (not line.changed, line.what)))
    return Simulation(since, until, len(ids), messages, lines, capped)
