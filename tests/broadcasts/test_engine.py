"""Broadcasts in the engine: only opted-in contacts receive one (the rest are listed with
the reason), each recipient is queued and sent exactly once even when a worker dies, the
number's messaging limit holds, and replies and STOPs after it show in its report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.parse import parse_envelope, parse_webhook
from connectors.whatsapp.simulator.payloads import message_webhook, status_webhook
from engine.auth.principal import Principal, Role
from engine.automation.inbound import automations_for
from engine.broadcasts import (
    Draft,
    broadcast_key,
    broadcast_report,
    cancel_broadcast,
    create_broadcast,
    preview,
    queue_broadcast,
)
from engine.broadcasts.replies import with_broadcast_replies
from engine.contacts import ConsentSource, NewContact, add_contact, record_consent
from engine.contacts.keywords import with_consent_keywords
from engine.contacts.segments import CHUNK, Segment, save_segment
from engine.contacts.uploads import import_contact_file
from engine.core.messaging import MessageSender, OutboundMessage, SendResult
from engine.db import system_session, workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import process_inbound_event
from engine.inbox.errors import InvalidInput
from engine.jobs.names import DISPATCH_OUTBOX_ROW, QUEUE_BROADCAST
from engine.jobs.sweeper import sweep_once
from engine.jobs.timing import job_timings
from engine.models import (
    AuditLog,
    Broadcast,
    BroadcastRecipient,
    ConsentState,
    Contact,
    Conversation,
    Direction,
    Message,
    OutboxRow,
)
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import retry_failed_message
from engine.whatsapp.apply import apply_whatsapp_event
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from tests.applying import apply_and_step
from tests.contacts.test_opt_out import SHOP, Shop


class WorkerKilled(BaseException):
    """The worker process died (SIGKILL): nothing after this line of it runs."""


@dataclass
class Sends:
    """A fake WhatsApp that can kill the worker right after a request reached it."""

    inner: FakeSender
    kill_after: set[str] = field(default_factory=set)

    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        result = self.inner.send(message, idempotency_key=idempotency_key)
        if idempotency_key in self.kill_after:
            self.kill_after.discard(idempotency_key)
            raise WorkerKilled(idempotency_key)
        return result


@dataclass
class RecordingQueue:
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def enqueue(self, job: str, **arguments: Any) -> None:
        self.jobs.append((job, arguments))

    def pending(self) -> int:
        return len(self.jobs)


class Desk(Shop):
    def __init__(self, db: Engine, config_dir: Path, slug: str) -> None:
        super().__init__(db, config_dir, slug)
        self.manager = Principal(self.workspace_id, Role.MANAGER, "Wanjiku")
        self.whatsapp = Sends(FakeSender(clock=self.clock))

        def sender_for(workspace_id: int, number: str) -> MessageSender:
            return self.whatsapp

        self.executors = {SEND_KIND: make_send_executor(sender_for)}

    def customer_says(self, wa_id: str, text: str) -> None:
        """The customer writes; processed by the worker's automations (routing of a reply
        to a broadcast, consent keywords, the rules)."""
        self.sequence += 1
        self.clock.advance(timedelta(minutes=1))
        message = {
            "from": wa_id,
            "id": f"wamid.broadcast-{wa_id}-{self.sequence}",
            "timestamp": str(int(self.clock.now().timestamp())),
            "type": "text",
            "text": {"body": text},
        }
        body = json.dumps(message_webhook(SHOP, wa_id, "Mteja", message)).encode()
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
        automations = with_broadcast_replies(
            self.configs, with_consent_keywords(self.configs, automations_for(self.configs))
        )
        for event_id in stored.new_event_ids:
            process_inbound_event(
                event_id=event_id,
                db=self.db,
                clock=self.clock,
                handlers={"whatsapp": apply_whatsapp_event},
                automations=automations,
            )

    def contact(
        self,
        name: str,
        number: str,
        *,
        opt_in: bool = True,
        tags: str = "offer",
        fields: dict[str, str] | None = None,
    ) -> int:
        with workspace_session(self.db, self.workspace_id) as session:
            contact = add_contact(
                session,
                self.manager,
                NewContact(
                    name=name,
                    number=number,
                    tags=tuple(tags.split(",")),
                    fields=fields or {},
                    opt_in="signed up at the counter" if opt_in else "",
                ),
                self.clock.now(),
            )
            session.commit()
            return contact.id

    def segment(self, tags: str = "offer") -> str:
        with workspace_session(self.db, self.workspace_id) as session:
            saved = save_segment(
                session, self.manager, f"seg {tags}", Segment.of(tags), self.clock.now()
            )
            session.commit()
            return f"saved:{saved.id}"

    def draft(self, segment: str, first_name: str = "contact.first_name") -> Draft:
        return Draft(
            name="Week 49 offer",
            template="weekly_offer",
            language="en",
            variables=(first_name, "Samsung A15 at KES 15,999"),
            segment=segment,
        )

    def create(self, draft: Draft) -> int:
        rules_config = self.configs.config(self.slug)
        with workspace_session(self.db, self.workspace_id) as session:
            broadcast = create_broadcast(
                session, self.manager, rules_config, draft, self.clock.now()
            )
            session.commit()
            return broadcast.id

    @property
    def slug(self) -> str:
        with system_session(self.db) as session:
            from engine.models import Workspace

            slug = session.scalar(select(Workspace.slug).where(Workspace.id == self.workspace_id))
            assert slug is not None
            return slug

    def queue(self, broadcast_id: int) -> None:
        queue_broadcast(
            broadcast_id=broadcast_id, db=self.db, clock=self.clock, configs=self.configs
        )

    def send_all(self) -> None:
        """Run every outbox send row that is due, as workers would."""
        with workspace_session(self.db, self.workspace_id) as session:
            ids = list(
                session.scalars(
                    select(OutboxRow.id).where(
                        OutboxRow.kind == SEND_KIND, OutboxRow.state == "queued"
                    )
                )
            )
        for row_id in ids:
            dispatch_outbox_row(
                row_id=row_id, db=self.db, clock=self.clock, executors=self.executors
            )

    def status(self, message: Message, state: str, key: str | None = None) -> None:
        document = status_webhook(
            SHOP,
            wamid=message.provider_message_id or "wamid.unknown",
            status=state,
            recipient="254722000000",
            timestamp=int(self.clock.now().timestamp()),
            callback_data=key,
            category="marketing",
        )
        with workspace_session(self.db, self.workspace_id) as session:
            for item in parse_envelope(document):
                apply_and_step(session, item, self.clock.now())
            session.commit()

    def report(self, broadcast_id: int) -> Any:
        with workspace_session(self.db, self.workspace_id) as session:
            return broadcast_report(
                session, self.manager, broadcast_id, timedelta(days=3), self.clock.now()
            )

    def recipients(self, broadcast_id: int) -> dict[int, BroadcastRecipient]:
        return {
            r.contact_id: r
            for r in self.rows(BroadcastRecipient, BroadcastRecipient.broadcast_id == broadcast_id)
        }


@pytest.fixture()
def desk(db: Engine, retail_copy: tuple[Path, str]) -> Desk:
    return Desk(db, *retail_copy)


def sends_to(desk: Desk) -> dict[str, int]:
    counts: dict[str, int] = {}
    for send in desk.whatsapp.inner.sent:
        counts[send.body["to"]] = counts.get(send.body["to"], 0) + 1
    return counts


def test_only_opted_in_contacts_receive_it_and_the_rest_are_listed_with_the_reason(
    desk: Desk,
) -> None:
    amina = desk.contact("Amina Otieno", "+254722300001")
    brian = desk.contact("Brian Kip", "+254722300002")
    never = desk.contact("Chebet", "+254722300003", opt_in=False)
    stopped = desk.contact("Daudi", "+254722300004")
    desk.contact("Not in it", "+254722300009", tags="wholesale")
    with workspace_session(desk.db, desk.workspace_id) as session:
        record_consent(
            session,
            stopped,
            ConsentState.OPTED_OUT,
            source=ConsentSource.MANUAL,
            detail="asked on the phone",
            now=desk.clock.now(),
        )
        session.commit()
    segment = desk.segment()
    config = desk.configs.config(desk.slug)
    assert config is not None
    with workspace_session(desk.db, desk.workspace_id) as session:
        seen = preview(session, desk.manager, config, desk.draft(segment), desk.clock.now())
    assert (seen.in_segment, seen.recipients) == (4, 2)
    assert seen.skipped == {"no opt-in recorded": 1, "opted out": 1}
    assert seen.samples[0] == (
        "Hi Amina, this week at Duka Bora: Samsung A15 at KES 15,999. "
        "Reply to order, or STOP to stop offers."
    )

    broadcast_id = desk.create(desk.draft(segment))
    desk.queue(broadcast_id)
    recipients = desk.recipients(broadcast_id)
    assert {c: (r.state, r.reason) for c, r in recipients.items()} == {
        amina: ("queued", None),
        brian: ("queued", None),
        never: ("skipped", "no opt-in recorded"),
        stopped: ("skipped", "opted out"),
    }
    [broadcast] = desk.rows(Broadcast, Broadcast.id == broadcast_id)
    assert broadcast.state == "queued"
    keys = {r.idempotency_key for r in desk.rows(OutboxRow, OutboxRow.kind == SEND_KIND)}
    assert keys == {broadcast_key(broadcast_id, amina), broadcast_key(broadcast_id, brian)}

    desk.queue(broadcast_id)  # a second run (a redelivered job) queues nothing more
    desk.send_all()
    desk.send_all()
    assert sends_to(desk) == {"254722300001": 1, "254722300002": 1}
    [template] = [s.body for s in desk.whatsapp.inner.sent if s.body["to"] == "254722300001"]
    assert template["template"]["name"] == "weekly_offer"
    assert template["template"]["components"][0]["parameters"][0]["text"] == "Amina"
    report = desk.report(broadcast_id)
    assert (report.recipients, report.sent, report.failed_total) == (2, 2, 0)
    assert report.skipped == {"no opt-in recorded": 1, "opted out": 1}


def test_a_recipient_without_a_value_is_skipped_unless_the_variable_has_a_fallback(
    desk: Desk,
) -> None:
    desk.contact("Faith", "+254722300011")
    desk.contact("Esther", "+254722300012", fields={"county": "kiambu"})
    segment = desk.segment()
    config = desk.configs.config(desk.slug)
    assert config is not None
    with workspace_session(desk.db, desk.workspace_id) as session:
        strict = preview(
            session, desk.manager, config, desk.draft(segment, "contact.county"), desk.clock.now()
        )
        kind = preview(
            session,
            desk.manager,
            config,
            desk.draft(segment, "contact.county | Nairobi"),
            desk.clock.now(),
        )
        with pytest.raises(InvalidInput, match="not something a contact has"):
            preview(
                session,
                desk.manager,
                config,
                desk.draft(segment, "contact.shoe_size"),
                desk.clock.now(),
            )
    assert (strict.recipients, strict.skipped) == (1, {"no contact.county for {{1}}": 1})
    assert strict.samples == [
        "Hi kiambu, this week at Duka Bora: Samsung A15 at KES 15,999. "
        "Reply to order, or STOP to stop offers."
    ]
    assert kind.recipients == 2 and any(s.startswith("Hi Nairobi,") for s in kind.samples)


def test_a_worker_killed_mid_send_never_sends_anyone_twice(desk: Desk) -> None:
    amina = desk.contact("Amina Otieno", "+254722300001")
    desk.contact("Brian Kip", "+254722300002")
    broadcast_id = desk.create(desk.draft(desk.segment()))

    # The queueing job is claimed by a worker that dies before its chunk commits.
    with system_session(desk.db) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        broadcast.state, broadcast.attempts = "queueing", 1
        broadcast.lease_expires_at = desk.clock.now() + job_timings().lease
        session.commit()
    desk.queue(broadcast_id)  # another worker: the lease holds, it does nothing
    assert desk.recipients(broadcast_id) == {}
    desk.clock.advance(job_timings().lease + timedelta(seconds=1))
    queue = RecordingQueue()
    sweep_once(desk.db, queue, desk.clock.now())
    assert (QUEUE_BROADCAST, {"broadcast_id": broadcast_id}) in queue.jobs
    desk.queue(broadcast_id)
    assert len(desk.recipients(broadcast_id)) == 2

    # The send to Amina reaches WhatsApp, then the worker dies before hearing the answer.
    desk.whatsapp.kill_after.add(broadcast_key(broadcast_id, amina))
    with pytest.raises(WorkerKilled):
        desk.send_all()
    desk.clock.advance(job_timings().lease + timedelta(seconds=1))
    queue = RecordingQueue()
    sweep_once(desk.db, queue, desk.clock.now())
    assert any(job == DISPATCH_OUTBOX_ROW for job, _ in queue.jobs)
    for job, arguments in queue.jobs:
        if job == DISPATCH_OUTBOX_ROW:
            dispatch_outbox_row(
                row_id=arguments["row_id"], db=desk.db, clock=desk.clock, executors=desk.executors
            )
    desk.send_all()
    # A re-run of the queueing job from the start finds everyone already queued.
    with system_session(desk.db) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        broadcast.state, broadcast.cursor = "scheduled", 0
        session.commit()
    desk.queue(broadcast_id)
    desk.send_all()
    assert sends_to(desk) == {"254722300001": 1, "254722300002": 1}
    assert len(desk.rows(Message, Message.direction == Direction.OUTBOUND)) == 2

    # WhatsApp's status carries the key back: the message whose answer was lost is found.
    [lost] = desk.rows(Message, Message.failure_code == "unknown")
    key = broadcast_key(broadcast_id, amina)
    [killed] = [s for s in desk.whatsapp.inner.sent if s.idempotency_key == key]
    wamid = getattr(killed.result, "provider_message_id", None)
    assert isinstance(wamid, str)
    lost.provider_message_id = wamid
    desk.status(lost, "delivered", key=key)
    [found] = desk.rows(Message, Message.id == lost.id)
    assert (found.delivery_state, found.failure_code) == ("delivered", None)
    assert found.provider_message_id == wamid


def test_the_messaging_limit_holds_the_rest_until_a_day_has_passed(desk: Desk) -> None:
    folder = Path(desk.configs.root) / desk.slug
    text = (folder / "broadcasts.yaml").read_text(encoding="utf-8")
    (folder / "broadcasts.yaml").write_text(
        text.replace("messaging_limit: 1000", "messaging_limit: 2"), encoding="utf-8"
    )
    from engine.workspaces.load import load_folder

    load_folder(desk.db, folder, desk.clock.now())
    for n in range(3):
        desk.contact(f"Customer {n}", f"+25472230002{n}")
    broadcast_id = desk.create(desk.draft(desk.segment()))
    desk.queue(broadcast_id)
    assert [r.state for r in desk.recipients(broadcast_id).values()] == ["queued", "queued"]
    [broadcast] = desk.rows(Broadcast, Broadcast.id == broadcast_id)
    assert broadcast.state == "scheduled"
    assert broadcast.waiting_reason is not None and "messaging limit" in broadcast.waiting_reason
    assert broadcast.send_at > desk.clock.now() + timedelta(hours=23)
    desk.queue(broadcast_id)  # not due yet
    assert len(desk.recipients(broadcast_id)) == 2
    desk.clock.advance(timedelta(hours=24, minutes=2))
    desk.queue(broadcast_id)
    assert [r.state for r in desk.recipients(broadcast_id).values()] == ["queued"] * 3
    [broadcast] = desk.rows(Broadcast, Broadcast.id == broadcast_id)
    assert broadcast.state == "queued"


def test_replies_and_a_stop_after_the_broadcast_show_in_its_report(desk: Desk) -> None:
    desk.contact("Amina Otieno", "+254722300001")
    desk.contact("Brian Kip", "+254722300002")
    desk.contact("Chebet Rono", "+254722300003")
    broadcast_id = desk.create(desk.draft(desk.segment()))
    desk.queue(broadcast_id)
    desk.send_all()
    for message in desk.rows(Message, Message.direction == Direction.OUTBOUND):
        desk.status(message, "delivered")
    [amina_message] = [
        m
        for m in desk.rows(Message, Message.direction == Direction.OUTBOUND)
        if m.body is not None and "Amina" in m.body
    ]
    desk.status(amina_message, "read")

    desk.customer_says("254722300001", "Nataka hiyo simu, bado ipo?")
    desk.customer_says("254722300002", "STOP")

    report = desk.report(broadcast_id)
    assert (report.recipients, report.sent, report.delivered, report.read) == (3, 3, 3, 1)
    assert (report.replied, report.opted_out) == (1, 1)
    lines = {line.name: line for line in report.lines}
    assert lines["Amina Otieno"].replied and not lines["Amina Otieno"].opted_out
    assert lines["Brian Kip"].opted_out and not lines["Brian Kip"].replied
    # The reply is an ordinary conversation: the one the broadcast opened, in the pipeline.
    conversations = desk.rows(Conversation)
    assert len(conversations) == 3
    amina_conversation = lines["Amina Otieno"].conversation_id
    [reply] = desk.rows(Message, Message.body == "Nataka hiyo simu, bado ipo?")
    assert reply.conversation_id == amina_conversation
    [conversation] = desk.rows(Conversation, Conversation.id == amina_conversation)
    assert conversation.pipeline is not None and conversation.stage is not None
    assert conversation.team_id is not None  # routing.yaml chose a team when Amina wrote
    brian_conversation = lines["Brian Kip"].conversation_id
    [stopped] = desk.rows(Conversation, Conversation.id == brian_conversation)
    assert (stopped.team_id, stopped.owner_id) == (None, None)  # STOP needs nobody
    chebet_conversation = lines["Chebet Rono"].conversation_id
    [silent] = desk.rows(Conversation, Conversation.id == chebet_conversation)
    assert (silent.team_id, silent.owner_id) == (None, None)  # no reply, nobody's queue

    # Brian is never included again.
    second = desk.create(desk.draft(desk.segment()))
    desk.queue(second)
    assert desk.recipients(second)[lines["Brian Kip"].contact_id].reason == (
        "opted out (their own word)"
    )
    with workspace_session(desk.db, desk.workspace_id) as session:
        total = session.scalar(select(func.count()).select_from(Contact))
    assert total == 3
    assert json.dumps(report.as_json())


def test_a_large_segment_is_queued_in_chunks_each_after_the_last_was_sent(desk: Desk) -> None:
    rows = "\n".join(f"Mteja {n},+2547223{n:05d},offer,yes" for n in range(CHUNK + 5))
    with workspace_session(desk.db, desk.workspace_id) as session:
        _, result = import_contact_file(
            session,
            desk.workspace_id,
            "Name,Phone,Tags,Opt-in\n" + rows,
            filename="wateja.csv",
            fields=(),
            default_region="KE",
            mapping={},
            now=desk.clock.now(),
        )
        session.commit()
    assert result is not None and result.created == CHUNK + 5
    broadcast_id = desk.create(desk.draft(desk.segment()))
    desk.queue(broadcast_id)
    assert len(desk.recipients(broadcast_id)) == CHUNK
    [broadcast] = desk.rows(Broadcast, Broadcast.id == broadcast_id)
    assert broadcast.state == "scheduled"
    assert broadcast.waiting_reason == f"sending the {CHUNK} messages already queued first"
    desk.clock.advance(timedelta(seconds=30))
    desk.queue(broadcast_id)  # the first chunk is not out yet: still waiting
    assert len(desk.recipients(broadcast_id)) == CHUNK

    with workspace_session(desk.db, desk.workspace_id) as session:  # the workers sent them
        session.execute(
            update(Message)
            .where(Message.direction == Direction.OUTBOUND)
            .values(delivery_state="sent")
            .execution_options(synchronize_session=False)
        )
        session.commit()
    desk.clock.advance(timedelta(seconds=30))
    desk.queue(broadcast_id)
    recipients = desk.recipients(broadcast_id)
    assert len(recipients) == CHUNK + 5 and {r.state for r in recipients.values()} == {"queued"}
    [broadcast] = desk.rows(Broadcast, Broadcast.id == broadcast_id)
    assert (broadcast.state, broadcast.waiting_reason) == ("queued", None)
    with workspace_session(desk.db, desk.workspace_id) as session:
        keys = session.scalar(
            select(func.count(func.distinct(OutboxRow.idempotency_key))).where(
                OutboxRow.kind == SEND_KIND
            )
        )
    assert keys == CHUNK + 5


def test_a_broadcast_for_later_waits_for_its_time_and_a_cancelled_one_sends_nothing(
    desk: Desk,
) -> None:
    desk.contact("Amina Otieno", "+254722300001")
    segment = desk.segment()
    later = desk.create(replace(desk.draft(segment), send_at=desk.clock.now() + timedelta(hours=2)))
    cancelled = desk.create(desk.draft(segment))
    with workspace_session(desk.db, desk.workspace_id) as session:
        cancel_broadcast(session, desk.manager, cancelled, desk.clock.now())
        session.commit()
    queue = RecordingQueue()
    sweep_once(desk.db, queue, desk.clock.now())
    assert [a for j, a in queue.jobs if j == QUEUE_BROADCAST] == []
    desk.queue(later)
    desk.queue(cancelled)
    assert desk.recipients(later) == {} and desk.recipients(cancelled) == {}
    desk.clock.advance(timedelta(hours=2))
    sweep_once(desk.db, queue, desk.clock.now())
    assert [a for j, a in queue.jobs if j == QUEUE_BROADCAST] == [{"broadcast_id": later}]
    desk.queue(later)
    assert [r.state for r in desk.recipients(later).values()] == ["queued"]
    assert desk.rows(AuditLog, AuditLog.action == "broadcast_cancelled")[0].subject_id == cancelled


def test_a_failed_broadcast_message_shows_its_reason_and_staff_can_retry_it(desk: Desk) -> None:
    desk.contact("Amina Otieno", "+254722300001")
    broadcast_id = desk.create(desk.draft(desk.segment()))
    desk.queue(broadcast_id)
    desk.whatsapp.inner.fail_next(131026, title="Message undeliverable")
    desk.send_all()
    report = desk.report(broadcast_id)
    assert report.failed_total == 1 and report.sent == 0
    [reason] = report.failed
    assert reason.startswith("131026")
    [failed] = desk.rows(Message, Message.delivery_state == "failed")
    with workspace_session(desk.db, desk.workspace_id) as session:
        retry_failed_message(session, failed.id, desk.clock.now())
        session.commit()
    desk.send_all()
    assert desk.report(broadcast_id).sent == 1
    assert sends_to(desk) == {"254722300001": 2}  # the refused attempt, and the retry
