"""Media through the outbox: a customer's file is downloaded once, verified and kept;
a file staff attach is uploaded and then sent by id; failures retry, then show."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.parse import parse_envelope
from connectors.whatsapp.simulator.media import SAMPLE_PDF, sample_png
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.auth.principal import Principal, Role
from engine.core.clock import FrozenClock
from engine.core.media import MediaFailure
from engine.core.messaging import OutboundMedia
from engine.db import system_session, workspace_session
from engine.inbox.conversation import Entry, timeline
from engine.inbox.failures import list_failures, retry_download
from engine.jobs.names import DISPATCH_OUTBOX_ROW
from engine.models import Conversation, MediaFile, Message, OutboxRow
from engine.outbox.dispatch import dispatch_outbox_row
from engine.outbox.sends import queue_media, queue_text
from engine.whatsapp.media import DOWNLOAD_KIND, make_download_executor, make_uploader
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from tests.applying import apply_and_step
from tests.sweeping import swept

SHOP = Business("1020", "104729384756101", "254711000111")
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PNG = sample_png()
CUSTOMER = "254722000100"


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, object]]] = []

    def enqueue(self, job: str, **arguments: object) -> None:
        self.jobs.append((job, arguments))


class Harness:
    def __init__(self, db: Engine, workspace_id: int) -> None:
        self.db, self.workspace_id = db, workspace_id
        self.clock = FrozenClock(START)
        self.whatsapp = FakeSender(clock=self.clock)
        media_for = lambda ws, number: self.whatsapp  # noqa: E731
        self.executors = {
            DOWNLOAD_KIND: make_download_executor(media_for),
            SEND_KIND: make_send_executor(
                lambda ws, number: self.whatsapp, upload=make_uploader(media_for)
            ),
        }
        self._count = 0

    def customer_sends(self, kind: str, media: dict[str, object]) -> int:
        """A customer's media message arrives; the id of the stored Message."""
        self._count += 1
        wamid = f"wamid.media-{self._count}"
        document = message_webhook(
            SHOP,
            CUSTOMER,
            "Mutua",
            {
                "from": CUSTOMER,
                "id": wamid,
                "type": kind,
                "timestamp": str(int(self.clock.now().timestamp())),
                kind: media,
            },
        )
        with workspace_session(self.db, self.workspace_id) as session:
            for item in parse_envelope(document):
                apply_and_step(session, item, self.clock.now())
            session.commit()
            message = session.scalars(
                select(Message).where(Message.provider_message_id == wamid)
            ).one()
            return message.id

    def row(self, key: str) -> OutboxRow:
        with workspace_session(self.db, self.workspace_id) as session:
            return session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one()

    def run(self, key: str) -> OutboxRow:
        dispatch_outbox_row(
            row_id=self.row(key).id, db=self.db, clock=self.clock, executors=self.executors
        )
        return self.row(key)

    def file_of(self, message_id: int) -> MediaFile | None:
        with workspace_session(self.db, self.workspace_id) as session:
            file = session.scalars(
                select(MediaFile).where(MediaFile.message_id == message_id)
            ).first()
            if file is not None:
                assert file.content is not None
            return file

    def message(self, message_id: int) -> Message:
        with workspace_session(self.db, self.workspace_id) as session:
            message = session.get(Message, message_id)
            assert message is not None
            return message


@pytest.fixture()
def harness(db: Engine, workspace_id: int) -> Harness:
    return Harness(db, workspace_id)


def b64_sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_customers_photo_is_downloaded_verified_and_linked(harness: Harness) -> None:
    harness.whatsapp.put_media("9001", PNG, "image/png")
    message_id = harness.customer_sends(
        "image", {"id": "9001", "mime_type": "image/png", "sha256": b64_sha(PNG), "caption": "hi"}
    )
    row = harness.run(f"media:{message_id}")
    assert (row.kind, row.state) == (DOWNLOAD_KIND, "done")
    file = harness.file_of(message_id)
    assert file is not None
    assert (file.origin, file.content, file.size, file.provider_media_id) == (
        "inbound",
        PNG,
        len(PNG),
        "9001",
    )
    assert file.sha256 == hashlib.sha256(PNG).hexdigest()
    media = harness.message(message_id).media or {}
    assert media["media_file_id"] == file.id and media["size"] == len(PNG)
    # Run again (a redelivered job): nothing is fetched or stored twice.
    fetched = len(harness.whatsapp.fetches)
    with workspace_session(harness.db, harness.workspace_id) as session:
        session.get(OutboxRow, row.id).state = "queued"  # type: ignore[union-attr]
        session.commit()
    assert harness.run(f"media:{message_id}").state == "done"
    assert len(harness.whatsapp.fetches) == fetched


def test_a_text_message_owes_no_download(harness: Harness, db: Engine) -> None:
    harness.customer_sends("text", {"body": "hello"})
    with workspace_session(db, harness.workspace_id) as session:
        assert session.scalars(select(OutboxRow).where(OutboxRow.kind == DOWNLOAD_KIND)).all() == []


def test_a_file_that_does_not_match_its_sha256_is_not_kept_and_is_retried(
    harness: Harness,
) -> None:
    harness.whatsapp.put_media("9002", PNG, "image/png")
    message_id = harness.customer_sends(
        "image", {"id": "9002", "mime_type": "image/png", "sha256": b64_sha(b"other bytes")}
    )
    row = harness.run(f"media:{message_id}")
    assert row.state == "queued" and "sha256_mismatch" in (row.last_error or "")
    assert row.next_attempt_at is not None and row.next_attempt_at > harness.clock.now()
    assert harness.file_of(message_id) is None


def test_a_lost_file_fails_for_staff_to_see_and_a_network_error_is_retried(
    harness: Harness,
) -> None:
    message_id = harness.customer_sends("document", {"id": "9404", "mime_type": "application/pdf"})
    harness.whatsapp.fail_next_media(MediaFailure(True, "network", "no connection"))
    first = harness.run(f"media:{message_id}")
    assert first.state == "queued" and first.last_error and "network" in first.last_error
    harness.clock.advance(timedelta(hours=1))
    gone = harness.run(f"media:{message_id}")  # the fake has no file 9404: WhatsApp lost it
    assert gone.state == "failed" and "not_found" in (gone.last_error or "")
    principal = Principal(harness.workspace_id, Role.MANAGER, "Boss", None)
    with workspace_session(harness.db, harness.workspace_id) as session:
        failures = list_failures(session, principal)
    assert [d.message_id for d in failures.downloads] == [message_id]
    assert "not_found" in (failures.downloads[0].error or "")


def test_a_file_larger_than_kazi_keeps_is_refused_without_retrying(harness: Harness) -> None:
    big = PNG + b"\0" * (5 * 1024 * 1024)
    harness.whatsapp.put_media("9005", big, "image/png")
    message_id = harness.customer_sends("image", {"id": "9005", "mime_type": "image/png"})
    row = harness.run(f"media:{message_id}")
    assert row.state == "failed" and "too_large" in (row.last_error or "")
    assert harness.file_of(message_id) is None


def test_a_download_whose_worker_died_is_handed_out_again_by_the_sweeper(
    harness: Harness,
) -> None:
    harness.whatsapp.put_media("9006", PNG, "image/png")
    message_id = harness.customer_sends("image", {"id": "9006", "mime_type": "image/png"})
    row = harness.row(f"media:{message_id}")
    assert swept(harness.db, harness.clock.now(), DISPATCH_OUTBOX_ROW, "row_id", {row.id}) == [
        row.id
    ]
    # A worker claims it and dies: the lease runs out and the sweeper hands it out again.
    with system_session(harness.db) as session:
        claimed = session.get(OutboxRow, row.id)
        assert claimed is not None
        claimed.state, claimed.lease_expires_at = "sending", harness.clock.now()
        session.commit()
    harness.clock.advance(timedelta(minutes=5))
    assert swept(harness.db, harness.clock.now(), DISPATCH_OUTBOX_ROW, "row_id", {row.id}) == [
        row.id
    ]


def attached(harness: Harness, data: bytes, mime_type: str, kind: str, name: str) -> int:
    harness.customer_sends("text", {"body": "send me the list"})
    with workspace_session(harness.db, harness.workspace_id) as session:
        conversation_id = session.scalars(select(Message.conversation_id)).first()
        assert conversation_id is not None
        message = queue_media(
            session,
            conversation_id=conversation_id,
            kind=kind,
            link=None,
            author_teammate_id=None,
            now=harness.clock.now(),
            caption="Here",
            filename=name if kind == "document" else None,
        )
        session.add(
            MediaFile(
                message_id=message.id,
                origin="outbound",
                sha256=hashlib.sha256(data).hexdigest(),
                mime_type=mime_type,
                size=len(data),
                file_name=name,
                content=data,
                created_at=harness.clock.now(),
            )
        )
        session.commit()
        return message.id


def test_an_attached_file_is_uploaded_then_sent_by_id(harness: Harness) -> None:
    message_id = attached(harness, SAMPLE_PDF, "application/pdf", "document", "list.pdf")
    row = harness.run(f"message:{message_id}")
    assert row.state == "done", row.last_error
    [send] = [s for s in harness.whatsapp.sent if isinstance(s.message, OutboundMedia)]
    assert isinstance(send.message, OutboundMedia)
    media_id = send.message.media_id
    assert media_id and send.message.link is None
    assert send.body["document"] == {"id": media_id, "caption": "Here", "filename": "list.pdf"}
    assert harness.whatsapp.media[media_id].data == SAMPLE_PDF
    file = harness.file_of(message_id)
    assert file is not None and file.provider_media_id == media_id
    assert harness.message(message_id).delivery_state == "accepted"


def test_a_recent_upload_is_reused_when_a_send_is_retried(harness: Harness) -> None:
    message_id = attached(harness, PNG, "image/png", "image", "p.png")
    harness.whatsapp.fail_next(131000, http_status=500)
    assert harness.run(f"message:{message_id}").state == "queued"
    uploads = len(harness.whatsapp.media)
    harness.clock.advance(timedelta(minutes=1))
    assert harness.run(f"message:{message_id}").state == "done"
    assert len(harness.whatsapp.media) == uploads  # no second upload
    sent = [s.message for s in harness.whatsapp.sent]
    ids = [m.media_id for m in sent if isinstance(m, OutboundMedia)]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_a_refused_upload_fails_the_message_with_the_reason(harness: Harness) -> None:
    message_id = attached(harness, PNG, "image/png", "image", "p.png")
    harness.whatsapp.fail_next_media(
        MediaFailure(False, "131053", "The media could not be fetched or uploaded")
    )
    row = harness.run(f"message:{message_id}")
    assert row.state == "failed"
    message = harness.message(message_id)
    assert message.delivery_state == "failed" and message.failure_code == "131053"
    assert not [s for s in harness.whatsapp.sent if isinstance(s.message, OutboundMedia)]


def test_text_sends_do_not_touch_media(harness: Harness) -> None:
    harness.customer_sends("text", {"body": "hi"})
    with workspace_session(harness.db, harness.workspace_id) as session:
        conversation_id = session.scalars(select(Message.conversation_id)).first()
        assert conversation_id is not None
        message = queue_text(
            session,
            conversation_id=conversation_id,
            body="ok",
            author_teammate_id=None,
            now=harness.clock.now(),
        )
        session.commit()
        message_id = message.id
    assert harness.run(f"message:{message_id}").state == "done"
    assert harness.whatsapp.media == {}


def _entry(harness: Harness, message_id: int) -> Entry:
    with workspace_session(harness.db, harness.workspace_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None
        [entry] = [e for e in timeline(session, conversation, "Mutua") if e.id == message_id]
        return entry


def test_a_file_whatsapp_no_longer_has_shows_expired_and_can_be_fetched_again(
    harness: Harness,
) -> None:
    message_id = harness.customer_sends("image", {"id": "9410", "mime_type": "image/png"})
    assert _entry(harness, message_id).media_pending
    gone = harness.run(f"media:{message_id}")  # the fake has no file 9410: expired
    assert gone.state == "failed"
    entry = _entry(harness, message_id)
    assert not entry.media_pending and entry.media_file_id is None
    assert (entry.media_unavailable or "").startswith("Expired: WhatsApp no longer has this file")
    # An agent on the conversation asks again (reference §5.1: keep the media id for
    # retries); WhatsApp has it this time.
    agent = Principal(harness.workspace_id, Role.AGENT, "Wanjiru", None)
    with workspace_session(harness.db, harness.workspace_id) as session:
        retry_download(session, agent, message_id, harness.clock.now(), from_conversation=True)
        session.commit()
    harness.whatsapp.put_media("9410", PNG, "image/png")
    assert harness.run(f"media:{message_id}").state == "done"
    entry = _entry(harness, message_id)
    assert entry.media_file_id is not None and entry.media_unavailable is None
