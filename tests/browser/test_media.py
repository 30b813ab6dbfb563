"""Files in a real browser: an agent attaches a photo, it goes out through the outbox
(uploaded, then sent by id) and shows as a thumbnail served by /media/{id}; a
customer's photo is downloaded by its job and shows too; a hostile file name stays text."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.simulator.media import SAMPLE_PDF, sample_png
from engine.core.clock import SystemClock
from engine.core.messaging import OutboundMedia
from engine.db import workspace_session
from engine.models import Conversation, Message, OutboxRow
from engine.outbox.dispatch import dispatch_outbox_row
from engine.whatsapp.media import DOWNLOAD_KIND, make_download_executor, make_uploader
from engine.whatsapp.outbound import SEND_KIND, make_send_executor
from tests.browser.conftest import Server
from tests.inbox.seed import PASSWORD, World

PHOTO = sample_png(64, 40, (200, 60, 20))


def signed_in(browser: Browser, server: Server, handle: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login?workspace={server.world.slug}")
    page.fill("input[name=login]", handle)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/inbox")
    return page


class Worker:
    """What a worker does with the outbox rows, against a fake WhatsApp."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.whatsapp = FakeSender()
        media_for = lambda workspace, number: self.whatsapp  # noqa: E731
        self.executors = {
            SEND_KIND: make_send_executor(
                lambda workspace, number: self.whatsapp, upload=make_uploader(media_for)
            ),
            DOWNLOAD_KIND: make_download_executor(media_for),
        }

    def run_pending(self, conversation_id: int) -> None:
        with workspace_session(self.world.db, self.world.workspace_id) as session:
            rows = list(
                session.scalars(
                    select(OutboxRow.id).where(
                        OutboxRow.conversation_id == conversation_id,
                        OutboxRow.state == "queued",
                        OutboxRow.kind.in_((SEND_KIND, DOWNLOAD_KIND)),
                    )
                )
            )
        for row_id in rows:
            dispatch_outbox_row(
                row_id=row_id, db=self.world.db, clock=SystemClock(), executors=self.executors
            )


def image_loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_an_attached_photo_is_sent_and_shown(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Photo Customer", owner="agent", last_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    page = signed_in(browser, server, "agent")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}/inbox/c/{conversation}")
    page.set_input_files(
        "#attach-file", files=[{"name": "sofa.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    page.fill("#attach-caption", "The <b>red</b> sofa")
    page.click("#attach button[type=submit]")
    sent = page.locator(".timeline li.outbound").last
    expect(sent.locator(".body")).to_have_text("The <b>red</b> sofa")
    thumbnail = sent.locator("img.media-thumb")
    expect(thumbnail).to_have_attribute("src", re.compile(r"^/media/\d+$"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.timeline li.outbound img.media-thumb')]"
        ".some(img => img.complete && img.naturalWidth === 64)"
    )
    worker = Worker(server.world)
    worker.run_pending(conversation)
    [media] = [s.message for s in worker.whatsapp.sent if isinstance(s.message, OutboundMedia)]
    assert isinstance(media, OutboundMedia) and media.kind == "image" and media.media_id
    assert worker.whatsapp.media[media.media_id].data == PHOTO
    page.reload()
    expect(page.locator(".timeline li.outbound").last.locator(".ticks")).to_have_attribute(
        "data-state", "accepted"
    )
    assert dialogs == []


def test_a_customers_photo_arrives_and_shows(server: Server, browser: Browser) -> None:
    now = datetime.now(UTC)
    conversation = server.world.conversation(
        "Sender Customer", owner="agent", last_at=now - timedelta(minutes=1)
    )
    with workspace_session(server.world.db, server.world.workspace_id) as session:
        found = session.get(Conversation, conversation)
        assert found is not None
        message = Message(
            conversation_id=conversation,
            direction="inbound",
            type="image",
            body="Is this one available?",
            media={
                "provider": "whatsapp",
                "media_id": "8801",
                "mime_type": "image/png",
                "sha256": base64.b64encode(hashlib.sha256(PHOTO).digest()).decode(),
            },
            provider_message_id=f"wamid.photo-{conversation}",
            author_kind="contact",
            author_contact_id=found.contact_id,
            provider_timestamp=now,
        )
        session.add(message)
        session.flush()
        session.add(
            OutboxRow(
                kind=DOWNLOAD_KIND,
                payload={"message_id": message.id, "media_id": "8801", "business_number": "x"},
                idempotency_key=f"media:{message.id}",
                conversation_id=conversation,
                next_attempt_at=now,
            )
        )
        session.commit()
    page = signed_in(browser, server, "agent")
    page.goto(f"{server.url}/inbox/c/{conversation}")
    expect(page.locator(".timeline li.inbound").last).to_contain_text("Fetching the file")
    worker = Worker(server.world)
    worker.whatsapp.put_media("8801", PHOTO, "image/png")
    worker.run_pending(conversation)
    page.reload()
    inbound = page.locator(".timeline li.inbound").last
    expect(inbound.locator("img.media-thumb")).to_be_visible()
    assert image_loaded(page, ".timeline li.inbound img.media-thumb")


def test_a_hostile_file_name_is_shown_as_text(server: Server, browser: Browser) -> None:
    conversation = server.world.conversation(
        "Doc Customer", owner="agent", last_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    page = signed_in(browser, server, "agent")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}/inbox/c/{conversation}")
    name = '<img src=x onerror="document.title=1">.pdf'
    page.set_input_files(
        "#attach-file",
        files=[{"name": name, "mimeType": "application/pdf", "buffer": SAMPLE_PDF}],
    )
    page.click("#attach button[type=submit]")
    link = page.locator(".timeline li.outbound").last.locator("a.media-file")
    expect(link).to_have_text(name)
    page.wait_for_timeout(300)
    assert page.title() != "1" and dialogs == []
    assert page.locator(".timeline li.outbound img").count() == 0
