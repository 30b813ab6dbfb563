"""The adapter writes exactly what the reducer decided: load → step → persist → load again
gives the state `step` returned, and every intent is one outbox row.

This is all that remains of keeping "kazi test" and the live system in step: both run
`step`, so what is left to check is that storage neither loses nor adds anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.automation.runner import rules_in_force, step_conversation
from engine.automation.state import load_directory, load_states
from engine.core.rules import DomainEvent
from engine.core.rules import effects as fx
from engine.core.states import ActorKind
from engine.core.step import Actor, Command, State
from engine.db import unit_of_work
from engine.models import Conversation, OutboxRow
from tests.automation.test_inbound_rules import Shop


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def comparable(state: State) -> State:
    """A state as storage keeps it: new keys become stored ids, recent firings are the
    loop brake's count, read back from the firings, and the roster's load is everyone's."""
    return replace(
        state,
        objects=tuple(replace(o, key="", id=None, created_at=None) for o in state.objects),
        pending=tuple(replace(d, key="") for d in state.pending),
        clocks=tuple(replace(c, key="") for c in state.clocks),
        recent_firings={},
        roster=replace(state.roster, members=()),
    )


def step_and_reload(shop: Shop, conversation_id: int, input: object) -> None:
    now = shop.clock.now()
    with unit_of_work(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        outboxed = session.query(OutboxRow).count()
        applied = step_conversation(session, rules, conversation_id, input, now)  # type: ignore[arg-type]
        assert applied is not None and applied.refused is None, applied
        session.flush()
        again = load_states(session, [conversation_id], rules.config, now, load_directory(session))
        assert comparable(again[conversation_id]) == comparable(applied.outcome.state)
        sends = [i for i in applied.outcome.intents]
        assert session.query(OutboxRow).count() - outboxed == len(sends)


def test_what_a_step_decides_is_what_storage_holds(shop: Shop) -> None:
    shop.customer_says("254722660001", "Bei ya TV ni ngapi?")
    [conversation] = shop.rows(Conversation)
    person = Actor(ActorKind.TEAMMATE, "Brian", None)
    now = shop.clock.now()
    commands = [
        (fx.AddTag("", tag="vip"),),
        (
            fx.SetField("", owner="order", field="amount", value=Decimal("42999")),
            fx.SetField("", owner="order", field="items", value="LG 50in TV"),
        ),
        (fx.MoveStage("", pipeline="sales", stage="quote"),),
        (fx.SetField("", owner="conversation", field="priority", value="high"),),
        (fx.AddNote("", text="Wants it delivered Saturday"),),
    ]
    for n, effects in enumerate(commands):
        shop.clock.advance(timedelta(minutes=3))
        step_and_reload(shop, conversation.id, Command(f"staff:p{n}", person, effects, now))
    message = DomainEvent(
        "message_received",
        "message:persist-1",
        shop.clock.now(),
        data={"message": {"text": "Sawa, nataka", "type": "text"}},
    )
    step_and_reload(shop, conversation.id, message)
