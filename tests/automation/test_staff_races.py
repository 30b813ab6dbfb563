"""Two people act on one conversation at the same moment (DESIGN rule 5).

Each action runs as the pages and the API run it: act_on_conversation locks the
conversation, then the desk reads and steps it. On PostgreSQL the two transactions truly
overlap; the lock makes the second read what the first wrote, so a stale decision is
refused instead of overriding the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.auth.principal import Principal, Role
from engine.automation.staff import Desk, act_on_conversation
from engine.inbox.errors import Conflict
from engine.inbox.ownership import assign
from engine.inbox.stages import move_stage
from engine.inbox.work import add_tag
from engine.models import Conversation, StageHistory, Teammate
from tests.automation.test_inbound_rules import Shop


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    return Shop(db, *retail_copy)


def together(shop: Shop, conversation_id: int, works: list[Callable[[Desk], object]]) -> list[str]:
    """Run each work in its own thread and transaction, released at the same instant."""
    barrier = threading.Barrier(len(works))
    outcomes = [""] * len(works)

    def run(n: int) -> None:
        barrier.wait()
        try:
            act_on_conversation(
                shop.db,
                shop.configs,
                shop.workspace_id,
                conversation_id,
                works[n],
                shop.clock.now(),
            )
            outcomes[n] = "done"
        except Conflict as conflict:
            outcomes[n] = f"conflict: {conflict}"

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def manager(shop: Shop, handle: str) -> Principal:
    [person] = shop.rows(Teammate, Teammate.handle == handle)
    return Principal(shop.workspace_id, Role.MANAGER, person.name, teammate_id=person.id)


def test_two_moves_from_the_same_stage_one_wins_the_other_is_told(shop: Shop) -> None:
    shop.customer_says("254722880001", "Habari, nina swali")
    [conversation] = shop.rows(Conversation)
    brian, wanjiru = manager(shop, "brian"), manager(shop, "wanjiru")

    def to(stage: str, who: Principal) -> Callable[[Desk], object]:
        return lambda desk: move_stage(
            desk, who, conversation.id, stage=stage, expected_stage="inquiry",
            now=shop.clock.now(),
        )  # fmt: skip

    outcomes = together(shop, conversation.id, [to("quote", brian), to("lost", wanjiru)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "done"], outcomes
    [refused] = [o for o in outcomes if o.startswith("conflict")]
    assert "meanwhile" in refused
    moves = [(m.from_stage, m.to_stage) for m in shop.rows(StageHistory) if m.from_stage]
    assert len(moves) == 1 and moves[0][0] == "inquiry"


def test_two_assignments_from_the_same_view_one_wins(shop: Shop) -> None:
    shop.customer_says("254722880002", "Habari")
    [conversation] = shop.rows(Conversation)
    seen = conversation.owner_id
    brian, wanjiru = [
        manager(shop, t.handle) for t in shop.rows(Teammate) if t.id != seen and t.active
    ][:2]

    def give(who: Principal, to: Principal) -> Callable[[Desk], object]:
        return lambda desk: assign(
            desk, who, conversation.id, expected_owner_id=seen, teammate_id=to.teammate_id,
            now=shop.clock.now(),
        )  # fmt: skip

    outcomes = together(shop, conversation.id, [give(brian, brian), give(wanjiru, wanjiru)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "done"], outcomes
    [after] = shop.rows(Conversation)
    winner = brian if outcomes[0] == "done" else wanjiru
    assert after.owner_id == winner.teammate_id


def test_different_changes_at_once_both_land(shop: Shop) -> None:
    shop.customer_says("254722880003", "Habari")
    [conversation] = shop.rows(Conversation)
    brian = manager(shop, "brian")
    works: list[Callable[[Desk], object]] = [
        lambda desk, tag=tag: add_tag(desk, brian, conversation.id, tag, shop.clock.now())  # type: ignore[misc]
        for tag in ("vip", "wholesale", "nairobi")
    ]
    assert together(shop, conversation.id, works) == ["done"] * 3
    assert set(shop.tags()[0]) >= {"vip", "wholesale", "nairobi"}
