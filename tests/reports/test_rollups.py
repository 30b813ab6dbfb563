"""The report tallies kept as the engine writes equal a recount from the record.

Random histories on the retail sample (business hours, SLA policies, a pipeline):
customers write, teammates claim, reply, move stages, resolve and reopen, time passes
and SLA deadlines are checked. After each history the stored tallies must be exactly
what `recount` finds from conversations, messages, stage history and clocks.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.conversations.tallies import rebuild, recount, stored
from engine.core.tallies import FIRST_RESPONSE, MESSAGES_IN, OPENED, RESOLVED
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.inbox.ownership import assign
from engine.inbox.replies import reply_text
from engine.inbox.stages import move_stage
from engine.inbox.work import set_status
from engine.models import Contact, Conversation, Identity, SlaClock, Teammate
from engine.sla.clocks import check_clock
from tests.automation.test_inbound_rules import Shop

PEOPLE = ["brian", "faith", "kevin"]
STAGES = ["quote", "payment", "lost", "fulfilment", "inquiry"]
REFUSED = (Conflict, Forbidden, InvalidInput, NotFound)

actions = st.one_of(
    st.tuples(st.just("say"), st.integers(0, 2)),
    st.tuples(st.just("reply"), st.integers(0, 2), st.sampled_from(PEOPLE)),
    st.tuples(st.just("assign"), st.integers(0, 2), st.sampled_from(PEOPLE)),
    st.tuples(st.just("status"), st.integers(0, 2), st.sampled_from(["resolved", "open"])),
    st.tuples(st.just("stage"), st.integers(0, 2), st.sampled_from(STAGES)),
    st.tuples(st.just("wait"), st.sampled_from([7, 45, 180, 900, 2000])),
    st.tuples(st.just("sla")),
)


class History:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        with workspace_session(shop.db, shop.workspace_id) as session:
            self.people = {
                t.handle: t.id for t in session.scalars(select(Teammate)) if t.handle in PEOPLE
            }

    def conversation_of(self, customer: int) -> int | None:
        address = f"25472290000{customer}"
        with workspace_session(self.shop.db, self.shop.workspace_id) as session:
            return session.scalar(
                select(Conversation.id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .join(Identity, Identity.contact_id == Contact.id)
                .where(Identity.address.contains(address))
                .order_by(Conversation.id.desc())
                .limit(1)
            )

    def staff(self, customer: int, work: Any) -> None:
        conversation_id = self.conversation_of(customer)
        if conversation_id is None:
            return
        shop = self.shop
        try:
            with unit_of_work(shop.db, shop.workspace_id) as session:
                desk = desk_for(session, rules_in_force(session, shop.configs, shop.workspace_id))
                work(desk, conversation_id, shop.clock.now())
        except REFUSED:
            pass  # a move the pipeline forbids, a conversation outside its window: refused

    def manager(self, handle: str) -> Principal:
        return Principal(
            self.shop.workspace_id, Role.MANAGER, handle, teammate_id=self.people[handle]
        )

    def run(self, action: tuple[Any, ...]) -> None:
        shop = self.shop
        match action:
            case ("say", customer):
                shop.customer_says(f"25472290000{customer}", f"Habari {shop.sequence}")
            case ("reply", customer, who):
                self.staff(
                    customer,
                    lambda desk, cid, now: reply_text(
                        desk, self.manager(who), cid, "Karibu", now=now, confirmed=True
                    ),
                )
            case ("assign", customer, who):

                def give(desk: Any, cid: int, now: Any) -> None:
                    owner = desk.session.get(Conversation, cid).owner_id
                    assign(
                        desk,
                        self.manager("brian"),
                        cid,
                        expected_owner_id=owner,
                        teammate_id=self.people[who],
                        now=now,
                    )

                self.staff(customer, give)
            case ("status", customer, status):
                self.staff(
                    customer,
                    lambda desk, cid, now: set_status(
                        desk, self.manager("faith"), cid, status, now
                    ),
                )
            case ("stage", customer, stage):

                def move(desk: Any, cid: int, now: Any) -> None:
                    seen = desk.session.get(Conversation, cid).stage
                    move_stage(
                        desk, self.manager("kevin"), cid, stage=stage, expected_stage=seen, now=now
                    )

                self.staff(customer, move)
            case ("wait", minutes):
                shop.clock.advance(timedelta(minutes=minutes))
            case ("sla",):
                with workspace_session(shop.db, shop.workspace_id) as session:
                    due = session.scalars(
                        select(SlaClock.id).where(
                            SlaClock.stopped_at.is_(None), SlaClock.due_at <= shop.clock.now()
                        )
                    ).all()
                for clock_id in due:
                    check_clock(
                        clock_id=clock_id, db=shop.db, clock=shop.clock, configs=shop.configs
                    )

    def compare(self) -> dict[str, int]:
        shop = self.shop
        with workspace_session(shop.db, shop.workspace_id) as session:
            rules = rules_in_force(session, shop.configs, shop.workspace_id)
            assert rules is not None
            expected = recount(session, shop.workspace_id, rules.graph.calendar).rows()
            found = stored(session).rows()
        assert found == expected
        seen: dict[str, int] = {}
        for key, (count, _) in found.items():
            seen[key.measure] = seen.get(key.measure, 0) + count
        return seen


def fresh_shop(db: Engine, repo_root: Path, tmp: Path) -> Shop:
    slug = f"retail_{uuid.uuid4().hex[:8]}"
    folder = tmp / uuid.uuid4().hex[:8]
    shutil.copytree(repo_root / "configs" / "retail", folder / slug)
    workspace_file = folder / slug / "workspace.yaml"
    text = workspace_file.read_text(encoding="utf-8")
    workspace_file.write_text(text.replace("\nslug: retail\n", f"\nslug: {slug}\n"), "utf-8")
    return Shop(db, folder, slug)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(actions, min_size=4, max_size=25))
def test_tallies_kept_as_the_engine_writes_equal_a_recount(
    db: Engine, repo_root: Path, tmp_path: Path, history: list[tuple[Any, ...]]
) -> None:
    world = History(fresh_shop(db, repo_root, tmp_path))
    world.run(("say", 0))
    for action in history:
        world.run(action)
    world.compare()


def test_a_hand_made_history_counts_what_happened(
    db: Engine, repo_root: Path, tmp_path: Path
) -> None:
    world = History(fresh_shop(db, repo_root, tmp_path))
    for action in [
        ("say", 0),
        ("say", 1),
        ("wait", 45),
        ("reply", 0, "brian"),
        ("assign", 0, "brian"),
        ("stage", 0, "quote"),
        ("wait", 180),
        ("status", 0, "resolved"),
        ("status", 1, "resolved"),
        ("status", 1, "open"),  # reopened: no longer counted as resolved
        ("say", 0),  # customer writes again after resolution
        ("sla",),
    ]:
        world.run(action)
    seen = world.compare()
    assert seen[MESSAGES_IN] == 3
    assert seen[FIRST_RESPONSE] == 1
    assert seen[RESOLVED] == 1
    assert seen[OPENED] == len(
        world.shop.rows(Conversation)
    )  # one tally per conversation, wherever it is now


def test_rebuild_gives_the_same_tallies(db: Engine, repo_root: Path, tmp_path: Path) -> None:
    world = History(fresh_shop(db, repo_root, tmp_path))
    for action in [("say", 0), ("wait", 7), ("reply", 0, "faith"), ("status", 0, "resolved")]:
        world.run(action)
    before = world.compare()
    shop = world.shop
    with unit_of_work(shop.db, shop.workspace_id) as session:
        rules = rules_in_force(session, shop.configs, shop.workspace_id)
        assert rules is not None
        rebuild(session, shop.workspace_id, rules.graph.calendar)
    assert world.compare() == before
    world.run(("status", 0, "open"))
    assert RESOLVED not in world.compare()
