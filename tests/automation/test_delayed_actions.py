"""Delays with guards (issue 6, item 4): 'after 48h unless customer replied or stage changed'."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force
from engine.automation.scheduled import run_scheduled_action
from engine.core.rules.events import DomainEvent
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import Conflict
from engine.inbox.work import cancel_scheduled
from engine.jobs.names import RUN_SCHEDULED_ACTION
from engine.models import Conversation, ScheduledAction, Task, Teammate
from tests.applying import step_event
from tests.automation.test_inbound_rules import Shop
from tests.inbox.seed import desk
from tests.sweeping import swept


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def quote(shop: Shop, wa_id: str) -> int:
    """A customer asks, and a teammate moves the conversation to 'quote'."""
    shop.customer_says(wa_id, "Bei ya fridge?")
    with workspace_session(shop.db, shop.workspace_id) as session:
        conversation = session.scalars(select(Conversation)).one()
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        conversation.stage = "quote"
        entered = DomainEvent(
            "stage_entered",
            f"staff:quote:{wa_id}",
            shop.clock.now(),
            key="quote",
            data={"pipeline": "sales"},
        )
        step_event(session, rules, conversation, entered, shop.clock.now())
        session.commit()
        return conversation.id


def pending(shop: Shop) -> list[ScheduledAction]:
    return shop.rows(ScheduledAction, ScheduledAction.rule_name == "Send the quote")


def run_due(shop: Shop) -> list[int]:
    mine = {a.id for a in shop.rows(ScheduledAction)}
    ids = swept(shop.db, shop.clock.now(), RUN_SCHEDULED_ACTION, "action_id", mine)
    for action_id in ids:
        run_scheduled_action(
            action_id=action_id, db=shop.db, clock=shop.clock, configs=shop.configs
        )
    return ids


def chase_tasks(shop: Shop) -> list[Task]:
    return [t for t in shop.rows(Task) if t.title.startswith("No answer to the quote")]


def test_an_unanswered_quote_gets_its_follow_up_task_on_time(shop: Shop) -> None:
    quote(shop, "254722200001")
    [action] = pending(shop)
    assert action.due_at == shop.clock.now() + timedelta(hours=48)
    assert action.guard_text == "customer replied or stage changed"

    shop.clock.advance(timedelta(hours=47))
    assert run_due(shop) == [] and chase_tasks(shop) == []
    shop.clock.advance(timedelta(hours=1, seconds=1))
    assert run_due(shop) == [action.id]
    [task] = chase_tasks(shop)
    assert task.title.endswith("call Achieng or close it")
    [done] = pending(shop)
    assert done.state == "done"
    assert run_due(shop) == []  # never twice


def test_a_customer_reply_makes_the_delayed_block_do_nothing(shop: Shop) -> None:
    quote(shop, "254722200002")
    shop.clock.advance(timedelta(hours=5))
    shop.customer_says("254722200002", "Let me think about it")
    shop.clock.advance(timedelta(hours=44))
    run_due(shop)
    [action] = pending(shop)
    assert (action.state, action.outcome) == ("skipped", "unless customer replied or stage changed")
    assert chase_tasks(shop) == []


def test_staff_can_cancel_a_scheduled_follow_up(shop: Shop) -> None:
    quote(shop, "254722200003")
    [action] = pending(shop)
    manager = manager_of(shop)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        cancel_scheduled(
            desk(session), manager, action.conversation_id, action.id, shop.clock.now()
        )
    with unit_of_work(shop.db, shop.workspace_id) as session, pytest.raises(Conflict):
        cancel_scheduled(
            desk(session), manager, action.conversation_id, action.id, shop.clock.now()
        )
    shop.clock.advance(timedelta(hours=49))
    assert run_due(shop) == []
    assert chase_tasks(shop) == []


def manager_of(shop: Shop) -> Principal:
    [brian] = shop.rows(Teammate, Teammate.handle == "brian")
    return Principal(shop.workspace_id, Role.MANAGER, brian.name, teammate_id=brian.id)
