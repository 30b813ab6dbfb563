"""What `step` guarantees whatever happens, on random histories of the sample workspaces.

Customers write, teammates move stages, assign and change status, delayed blocks fall
due, in any order. After every step:
- the conversation has at most one owner, and it is an active teammate;
- every stage move, by a rule or a person, is an allowed move of its pipeline;
- a rule acts at most once on one event;
- a delayed block runs once at most, and never after it was cancelled or ran;
- a refused command changes nothing;
- the same input on the same state gives the same outcome.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.scenarios import initial_state
from dsl.workspace import compile_workspace
from engine.core.rules import DomainEvent, RuleGraph
from engine.core.rules import effects as fx
from engine.core.states import ActorKind
from engine.core.step import (
    Actor,
    Command,
    DelayDue,
    DelayFinished,
    DelayScheduled,
    Outcome,
    StageMoved,
    State,
    step,
)
from engine.workspaces.installed import INSTALLED

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday morning in Nairobi
WORDS = ["bei", "price", "ngapi", "order", "nataka", "asante", "yes", "ndiyo", "paid", "hello"]
STATUSES = ["open", "waiting_on_customer", "resolved", "open"]


def _graph(name: str) -> RuleGraph:
    result = compile_workspace(REPO / "configs" / name, capabilities=INSTALLED)
    assert result.graph is not None, result.diagnostics
    return result.graph


GRAPHS = {name: _graph(name) for name in ("retail", "distributor", "firm")}

# One thing that happens, with the minutes that pass before it.
happening = st.one_of(
    st.tuples(st.just("message"), st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)),
    st.tuples(st.just("move"), st.integers(0, 20)),
    st.tuples(st.just("move_object"), st.integers(0, 20)),
    st.tuples(st.just("assign"), st.integers(0, 10)),
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
)
history = st.lists(st.tuples(st.integers(0, 60 * 30), happening), min_size=1, max_size=25)


class Play:
    """A conversation living through a history, checked after every step."""

    def __init__(self, graph: RuleGraph) -> None:
        self.graph = graph
        self.state: State = initial_state(graph, {})
        self.now = START
        self.ids = itertools.count(1)
        self.ran: set[str] = set()
        self.cancelled: set[str] = set()
        self.renamed = itertools.count(1)

    def input(self, item: Any) -> Outcome:
        before = self.state
        outcome = step(before, item, self.graph, self.now)
        assert step(before, item, self.graph, self.now) == outcome  # no hidden inputs
        self.check(before, item, outcome)
        self.state = self._stored(outcome.state)
        return outcome

    def _stored(self, state: State) -> State:
        """What the adapter does on persisting: a new delay or object gets a stored key."""
        pending = tuple(
            replace(d, key=f"db:{next(self.renamed)}") if d.key.startswith("new:") else d
            for d in state.pending
        )
        return replace(state, pending=pending)

    def due(self) -> None:
        for delay in sorted(self.state.pending, key=lambda d: d.due_at):
            if delay.due_at <= self.now:
                self.input(DelayDue(delay))

    def person(self) -> Actor:
        return Actor(ActorKind.TEAMMATE, "Manager", 1)

    def happen(self, kind: str, value: Any) -> None:
        config = self.graph.config
        assert config is not None
        conversation = self.state.conversation
        if kind == "message":
            data = {"message": {"text": " ".join(value), "type": "text"}}
            self.input(DomainEvent("message_received", f"m{next(self.ids)}", self.now, data=data))
        elif kind in ("move", "move_object"):
            subject = None
            pipelines = [p for p in config.pipelines if p.subject == "conversation"]
            if kind == "move_object" and self.state.objects:
                item = self.state.objects[value % len(self.state.objects)]
                subject = item.key
                pipelines = [p for p in config.pipelines if p.name == item.pipeline] or [
                    p for p in config.pipelines if p.subject == item.kind
                ]
            if not pipelines:
                return
            pipeline = pipelines[0]
            stage = pipeline.stages[value % len(pipeline.stages)].name
            effect = fx.MoveStage("", pipeline=pipeline.name, stage=stage, subject=subject)
            self.command(effect)
        elif kind == "assign":
            members = self.state.roster.members
            if value >= len(members):
                self.command(fx.Assign("", unassign=True))
            else:
                self.command(fx.Assign("", teammate=members[value].handle))
        elif kind == "status":
            if conversation.status != value:
                self.command(fx.SetField("", owner="conversation", field="status", value=value))
        elif kind == "cancel" and self.state.pending:
            delay = self.state.pending[value % len(self.state.pending)]
            self.command(fx.CancelDelay("", delay=delay.key))

    def command(self, effect: fx.Effect) -> None:
        self.input(Command(f"staff:{next(self.ids)}", self.person(), (effect,), self.now))

    def check(self, before: State, item: Any, outcome: Outcome) -> None:
        config = self.graph.config
        assert config is not None
        if outcome.refused is not None:
            assert outcome.state == before and not outcome.changes and not outcome.intents
            return
        after = outcome.state
        owner = after.conversation.owner
        if owner is not None:
            member = after.roster.member(owner)
            assert member is not None and member.active, owner
        for change in outcome.changes:
            if isinstance(change, StageMoved) and change.from_stage is not None:
                pipeline = next(p for p in config.pipelines if p.name == change.pipeline)
                allowed = {(m.source, m.target) for m in pipeline.moves}
                assert (change.from_stage, change.to_stage) in allowed, change
            if isinstance(change, DelayFinished):
                assert change.key not in self.ran | self.cancelled, change
                if change.state == "cancelled":
                    self.cancelled.add(change.key)
                else:
                    self.ran.add(change.key)
            if isinstance(change, DelayScheduled):
                assert change.delay.due_at >= self.now
        fired = [(f.rule, f.event.id) for f in outcome.firings]
        assert len(fired) == len(set(fired)), fired
        if isinstance(item, DelayDue) and item.delay.key in self.ran | self.cancelled:
            assert item.delay.key not in {d.key for d in after.pending}


@pytest.mark.parametrize("name", sorted(GRAPHS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=history)
def test_random_histories_keep_the_invariants(name: str, events: list[tuple[int, Any]]) -> None:
    play = Play(GRAPHS[name])
    for minutes, (kind, value) in events:
        play.now += timedelta(minutes=minutes)
        play.due()
        play.happen(kind, value)
    play.now += timedelta(days=8)
    play.due()
    assert not [d for d in play.state.pending if d.due_at <= play.now]


def test_a_delay_that_ran_does_not_run_again() -> None:
    play = Play(GRAPHS["retail"])
    stages = [p for p in GRAPHS["retail"].config.pipelines if p.subject == "conversation"]  # type: ignore[union-attr]
    play.happen("message", ["bei", "ya", "tv"])
    play.command(fx.MoveStage("", pipeline=stages[0].name, stage="quote"))
    [delay] = play.state.pending
    play.now += timedelta(days=3)
    first = play.input(DelayDue(delay))
    assert any(isinstance(c, DelayFinished) for c in first.changes)
    again = step(play.state, DelayDue(delay), play.graph, play.now)
    assert (again.changes, again.intents, again.firings) == ((), (), ())
