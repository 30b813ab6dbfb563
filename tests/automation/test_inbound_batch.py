"""Issue 11 item 2: a worker claims many inbound events at once and applies them lean.

The batch job runs the retail sample's real rules on stored webhooks, in one
transaction per workspace, in id order; a bad event is recorded as one event would
be and never takes the others down; a rule's send is enqueued when the batch
commits; and the SQL statements an ordinary message costs are counted and pinned.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.ai.inbound import classifying_automations
from engine.contacts.keywords import with_consent_keywords
from engine.conversations.events import ConversationEvent
from engine.core.clock import FrozenClock
from engine.core.queue import RecordingJobQueue
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import (
    AUTOMATIC_ATTEMPTS,
    InboundHandler,
    process_inbound_batch,
)
from engine.jobs.names import DISPATCH_OUTBOX_ROW
from engine.jobs.sweeper import sweep_once
from engine.models import Conversation, InboundEvent, Message, OutboxRow, RuleFiring
from engine.whatsapp.apply import make_whatsapp_handler
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder

SHOP = Business("1020", "104729384756101", "254711502300")
STRANGER = Business("1020", "999999999999999", "254700000999")  # not the workspace's number
TUESDAY_10_NAIROBI = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)

# A text message into a conversation that is already open, with the retail sample's
# rules, its AI classifier and consent keywords, amortised over a batch of 50. It was
# 51 statements per event with one job per event before batching.
STATEMENT_BUDGET = 22
BUDGET_BATCH = 50

THANKS_RULE = """
rule "Thanks are answered at once"
when message received
if message.text contains any of ["asante sana"]
then
  send text "Karibu sana!"
end
"""


class Shop:
    def __init__(self, db: Engine, config_dir: Path, slug: str) -> None:
        self.db = db
        self.configs = ConfigDirectory(config_dir)
        self.workspace_id = load_folder(db, config_dir / slug, TUESDAY_10_NAIROBI)
        self.clock = FrozenClock(TUESDAY_10_NAIROBI)
        self.queue = RecordingJobQueue()
        self.sequence = 0
        self.handlers: dict[str, InboundHandler] = {"whatsapp": make_whatsapp_handler(self.configs)}

    def store(self, wa_id: str, text: str, business: Business = SHOP) -> int:
        """A customer's text message, stored as the webhook stores it (not applied)."""
        self.sequence += 1
        body = json.dumps(
            message_webhook(
                business,
                wa_id,
                "Achieng",
                {
                    "from": wa_id,
                    "id": f"wamid.batch-{wa_id}-{self.sequence}",
                    "timestamp": str(int(self.clock.now().timestamp()) + self.sequence),
                    "type": "text",
                    "text": {"body": text},
                },
            )
        ).encode()
        with workspace_session(self.db, self.workspace_id) as session:
            stored = store_inbound(
                session,
                workspace_id=self.workspace_id,
                provider="whatsapp",
                items=[
                    RawItem(dedup_key=e.dedup_key, payload=e.envelope) for e in parse_webhook(body)
                ],
                signature_ok=True,
                now=self.clock.now(),
            )
            session.commit()
        [event_id] = stored.new_event_ids
        return event_id

    def work(self, handlers: Mapping[str, InboundHandler] | None = None, limit: int = 100) -> None:
        """One run of the worker's batch job for this workspace."""
        process_inbound_batch(
            db=self.db,
            clock=self.clock,
            handlers=handlers or self.handlers,
            automations=with_consent_keywords(self.configs, classifying_automations(self.configs)),
            queue=self.queue,
            workspace_id=self.workspace_id,
            limit=limit,
        )

    def events(self, ids: list[int]) -> list[InboundEvent]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(
                session.scalars(
                    select(InboundEvent).where(InboundEvent.id.in_(ids)).order_by(InboundEvent.id)
                )
            )

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with workspace_session(self.db, self.workspace_id) as session:
            return list(session.scalars(select(model).where(*where).order_by(model.id)))


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Shop:
    config_dir, slug = retail_copy
    (config_dir / slug / "rules" / "thanks.kazi").write_text(THANKS_RULE, encoding="utf-8")
    return Shop(db, config_dir, slug)


@contextmanager
def counted(db: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db, "before_cursor_execute", count)


def test_one_job_applies_many_events_in_order_with_the_rules(shop: Shop) -> None:
    customers = [f"2547221002{n:02d}" for n in range(6)]
    ids = [
        shop.store(wa_id, text)
        for text in ("Habari", "bei ya TV ya inchi 55 ni ngapi?", "ok")
        for wa_id in customers
    ]
    shop.work()

    events = shop.events(ids)
    assert {(e.state, e.attempts, e.last_error) for e in events} == {("processed", 1, None)}
    conversations = shop.rows(Conversation)
    assert len(conversations) == len(customers)
    for conversation in conversations:
        texts = [m.body for m in shop.rows(Message, Message.conversation_id == conversation.id)]
        assert texts == ["Habari", "bei ya TV ya inchi 55 ni ngapi?", "ok"]  # in order
        # The price question ran the sales rules on each conversation.
        assert (conversation.pipeline, conversation.stage) == ("sales", "inquiry")
    assert {f.rule_name for f in shop.rows(RuleFiring)} >= {"Price questions are tagged for sales"}
    # Round robin still spreads the customers over the team, one after the other.
    assert len({c.owner_id for c in conversations}) == 3

    # A second run finds nothing left to do and changes nothing.
    shop.work()
    assert [e.attempts for e in shop.events(ids)] == [1] * len(ids)


def test_the_limit_leaves_the_rest_for_the_next_job_lowest_ids_first(shop: Shop) -> None:
    ids = [shop.store(f"25472230000{n}", "Habari") for n in range(5)]
    shop.work(limit=3)
    assert [e.state for e in shop.events(ids)] == ["processed"] * 3 + ["received"] * 2
    shop.work(limit=3)
    assert [e.state for e in shop.events(ids)] == ["processed"] * 5


def test_a_bad_event_is_recorded_and_never_blocks_the_others(shop: Shop) -> None:
    good_before = shop.store("254722400001", "Habari")
    flagged = shop.store("254722400002", "Hello", business=STRANGER)
    broken = shop.store("254722400003", "this one breaks")
    good_after = shop.store("254722400001", "bei ya friji?")
    real = shop.handlers["whatsapp"]

    def fragile(session: Session, item: InboundEvent, now: datetime) -> Any:
        happened: list[ConversationEvent] = list(real(session, item, now) or ())
        if "this one breaks" in json.dumps(item.payload):
            raise ValueError("the database said no")  # after writing: all of it undone
        return happened

    shop.work({"whatsapp": fragile})

    states = {
        e.id: (e.state, e.attempts, e.last_error)
        for e in shop.events([good_before, flagged, broken, good_after])
    }
    assert states[good_before] == ("processed", 1, None)
    assert states[good_after] == ("processed", 1, None)
    assert states[flagged][0] == "flagged"
    assert "not one of this workspace's numbers" in (states[flagged][2] or "")
    assert states[broken][:2] == ("received", 1)  # back to the queue after its backoff
    assert states[broken][2] == "ValueError: the database said no"
    # Nothing the broken event wrote is kept; the good ones are.
    bodies = [m.body for m in shop.rows(Message)]
    assert bodies == ["Habari", "bei ya friji?"]

    [again] = shop.events([broken])
    assert again.lease_expires_at is not None
    # Given up after the automatic attempts, like one event on its own.
    for _ in range(AUTOMATIC_ATTEMPTS):
        shop.clock.advance(timedelta(hours=1))
        shop.work({"whatsapp": fragile})
    [given_up] = shop.events([broken])
    assert (given_up.state, given_up.attempts) == ("failed", AUTOMATIC_ATTEMPTS)


def test_a_rules_send_is_enqueued_when_the_batch_commits(shop: Shop) -> None:
    ids = [shop.store(f"25472250000{n}", "asante sana") for n in range(3)]
    shop.work()
    assert {e.state for e in shop.events(ids)} == {"processed"}
    rows = shop.rows(OutboxRow, OutboxRow.kind == "whatsapp.send")
    assert len(rows) == 3
    assert {row.enqueued_at for row in rows} == {shop.clock.now()}
    enqueued = [int(a["row_id"]) for a in shop.queue.jobs(DISPATCH_OUTBOX_ROW)]  # type: ignore[arg-type]
    assert sorted(enqueued) == [row.id for row in rows]
    # The sweeper has nothing to find: the rows are on their way already.
    sweeper = RecordingJobQueue()
    sweep_once(shop.db, sweeper, shop.clock.now() + timedelta(seconds=5))
    mine = {row.id for row in rows}
    assert [a for a in sweeper.jobs(DISPATCH_OUTBOX_ROW) if a["row_id"] in mine] == []


def test_a_send_undone_with_its_event_is_not_enqueued(shop: Shop) -> None:
    kept = shop.store("254722600001", "asante sana")
    undone = shop.store("254722600002", "asante sana")
    real = shop.handlers["whatsapp"]

    def fails_second(session: Session, item: InboundEvent, now: datetime) -> Any:
        happened = real(session, item, now)
        if item.id == undone:
            # The rules ran, then the event failed: its send must never go out.
            shop_automations = with_consent_keywords(
                shop.configs, classifying_automations(shop.configs)
            )
            shop_automations(session, item.workspace_id, happened or (), now)
            raise ValueError("late failure")
        return happened

    shop.work({"whatsapp": fails_second})
    rows = shop.rows(OutboxRow, OutboxRow.kind == "whatsapp.send")
    assert len(rows) == 1
    assert [int(a["row_id"]) for a in shop.queue.jobs(DISPATCH_OUTBOX_ROW)] == [rows[0].id]  # type: ignore[arg-type]
    assert [e.state for e in shop.events([kept, undone])] == ["processed", "received"]


def test_two_workers_at_once_apply_each_event_once(shop: Shop) -> None:
    ids = [shop.store(f"2547227000{n:02d}", "Habari") for n in range(40)]
    calls: list[int] = []
    real = shop.handlers["whatsapp"]

    def counting(session: Session, item: InboundEvent, now: datetime) -> Any:
        calls.append(item.id)
        return real(session, item, now)

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(4):
                shop.work({"whatsapp": counting}, limit=10)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = shop.events(ids)
    assert {(e.state, e.attempts) for e in events} == {("processed", 1)}
    # A handler may run twice only when a whole batch was retried, never kept twice.
    assert len(shop.rows(Message)) == len(ids)
    assert set(calls) == set(ids)


def test_a_text_into_an_open_conversation_stays_within_its_statement_budget(
    shop: Shop,
) -> None:
    customers = [f"2547228000{n:02d}" for n in range(BUDGET_BATCH)]
    for wa_id in customers:
        shop.store(wa_id, "Habari")
    shop.work()
    shop.clock.advance(timedelta(minutes=5))
    ids = [shop.store(wa_id, "sawa, nitapita kesho") for wa_id in customers]

    with counted(shop.db) as statements:
        shop.work()

    assert {e.state for e in shop.events(ids)} == {"processed"}
    per_event = len(statements) / BUDGET_BATCH
    assert per_event <= STATEMENT_BUDGET, (per_event, _commonest(statements))


def _commonest(statements: list[str]) -> list[tuple[int, str]]:
    counts: dict[str, int] = {}
    for statement in statements:
        key = " ".join(statement.split())[:90]
        counts[key] = counts.get(key, 0) + 1
    return sorted(((n, s) for s, n in counts.items()), reverse=True)[:25]
