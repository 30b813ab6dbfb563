"""Attaching files from the conversation page and the API, and serving them only to
those the policy lets see the conversation, with headers that keep a file inert."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from connectors.whatsapp.simulator.media import SAMPLE_PDF, sample_png
from engine.auth import Role
from engine.db import workspace_session
from engine.models import MediaFile, Message, OutboxRow
from tests.inbox.seed import NOW, make_world
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

PNG = sample_png()


def attach(
    web: Web,
    conversation_id: int,
    content: bytes,
    mime_type: str,
    file_name: str = "photo.png",
    caption: str = "",
    csrf: bool = True,
) -> httpx.Response:
    data = {"caption": caption}
    if csrf:
        data["_csrf_token"] = web.csrf()
    return web.client.post(
        f"/inbox/c/{conversation_id}/attach",
        data=data,
        files={"file": (file_name, content, mime_type)},
        follow_redirects=False,
    )


def stored(web: Web, conversation_id: int) -> tuple[Message, MediaFile, OutboxRow]:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        message = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "outbound")
            .order_by(Message.id.desc())
        ).first()
        assert message is not None
        file = session.scalars(select(MediaFile).where(MediaFile.message_id == message.id)).one()
        assert file.content  # loaded now: the bytes are deferred
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.idempotency_key == f"message:{message.id}")
        ).one()
        return message, file, row


def mine(web: Web) -> int:
    conversation = web.world.conversation("Wanjiru", owner="agent")
    web.sign_in("agent")
    return conversation


def test_an_attached_image_is_stored_queued_and_shown_as_a_thumbnail(web: Web) -> None:
    conversation = mine(web)
    answer = attach(web, conversation, PNG, "image/png", caption="Our new stock")
    assert answer.status_code == 303, answer.text
    message, file, row = stored(web, conversation)
    assert (message.type, message.body, message.delivery_state) == (
        "image",
        "Our new stock",
        "queued",
    )
    assert (file.origin, file.mime_type, file.size, file.content) == (
        "outbound",
        "image/png",
        len(PNG),
        PNG,
    )
    assert message.media == {
        "media_file_id": file.id,
        "mime_type": "image/png",
        "filename": "photo.png",
        "size": len(PNG),
    }
    assert row.payload["stored"] is True and row.payload["kind"] == "image"
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f'<img class="media-thumb" src="/media/{file.id}"' in page
    served = web.client.get(f"/media/{file.id}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("inline;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"].startswith("private")
    assert served.headers["content-security-policy"].startswith("sandbox")


def test_a_document_is_a_download_link_with_its_size(web: Web) -> None:
    conversation = mine(web)
    assert attach(web, conversation, SAMPLE_PDF, "application/pdf", "price list.pdf").is_redirect
    _, file, row = stored(web, conversation)
    assert row.payload["filename"] == "price list.pdf"
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f'href="/media/{file.id}" download>price list.pdf</a>' in page
    served = web.client.get(f"/media/{file.id}")
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == (
        "attachment; filename=\"price list.pdf\"; filename*=UTF-8''price%20list.pdf"
    )


def test_what_whatsapp_cannot_send_is_refused_with_a_reason(web: Web) -> None:
    conversation = mine(web)
    refused = attach(web, conversation, b"<html><script>x</script>", "text/html", "a.html")
    assert refused.status_code == 400 and "WhatsApp cannot send text/html" in refused.text
    fake = attach(web, conversation, b"GIF89a not a png", "image/png")
    assert fake.status_code == 400 and "not a image/png image" in fake.text
    huge = attach(web, conversation, PNG + b"\0" * (5 * 1024 * 1024), "image/png")
    assert huge.status_code == 400 and "at most 5 MB" in huge.text
    long_caption = attach(web, conversation, PNG, "image/png", caption="x" * 1025)
    assert long_caption.status_code == 400 and "1024 characters" in long_caption.text
    empty = attach(web, conversation, b"", "application/pdf", "empty.pdf")
    assert empty.status_code == 400
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert session.scalars(select(MediaFile)).all() == []


def test_outside_the_window_a_file_cannot_be_sent(web: Web) -> None:
    conversation = web.world.conversation("Otieno", owner="agent", last_at=NOW - timedelta(days=2))
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert 'id="attach"' not in page
    refused = attach(web, conversation, PNG, "image/png")
    assert refused.status_code == 409 and "24 hours" in refused.text


def test_attaching_needs_the_csrf_token_and_the_right_to_work_it(web: Web) -> None:
    conversation = mine(web)
    assert attach(web, conversation, PNG, "image/png", csrf=False).status_code == 403
    someone_elses = web.world.conversation("Achieng", owner="other")
    refused = attach(web, someone_elses, PNG, "image/png")
    assert refused.status_code == 403 and "owner" in refused.text


def test_files_are_served_only_inside_their_workspace_and_to_the_signed_in(web: Web) -> None:
    conversation = mine(web)
    attach(web, conversation, PNG, "image/png")
    _, file, _ = stored(web, conversation)
    other = make_world(web.world.db)
    foreign_conversation = other.conversation("Stranger", owner="agent")
    with workspace_session(other.db, other.workspace_id) as session:
        message = Message(
            conversation_id=foreign_conversation,
            direction="inbound",
            type="image",
            author_kind="contact",
            provider_timestamp=NOW,
        )
        session.add(message)
        session.flush()
        foreign = MediaFile(
            message_id=message.id,
            origin="inbound",
            sha256="0" * 64,
            mime_type="image/png",
            size=len(PNG),
            content=PNG,
            created_at=NOW,
        )
        session.add(foreign)
        session.commit()
        foreign_id = foreign.id
    assert web.client.get(f"/media/{foreign_id}").status_code == 404
    assert web.client.get("/media/999999").status_code == 404
    api = bearer(web.world, Role.AGENT)
    assert web.client.get(f"/api/v1/media/{foreign_id}", headers=api).status_code == 404
    assert web.client.get(f"/api/v1/media/{file.id}", headers=api).content == PNG
    web.client.cookies.clear()
    assert web.client.get(f"/media/{file.id}", follow_redirects=False).status_code in (302, 303)
    assert web.client.get(f"/api/v1/media/{file.id}").status_code == 401


def test_hostile_file_names_and_captions_stay_text(web: Web) -> None:
    conversation = mine(web)
    name = '"><svg onload=alert(1)>\r\nX-Evil: 1.pdf'
    caption = "<script>alert('x')</script>"
    assert attach(web, conversation, SAMPLE_PDF, "application/pdf", name, caption).is_redirect
    _, file, _ = stored(web, conversation)
    page = web.client.get(f"/inbox/c/{conversation}").text
    timeline = page.split('<ol class="timeline" hx-disable>')[1].split("</ol>")[0]
    assert "<svg" not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in timeline
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in timeline
    served = web.client.get(f"/media/{file.id}")
    disposition = served.headers["content-disposition"]
    assert "x-evil" not in {k.lower() for k in served.headers}
    fallback = re.match(r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)$', disposition)
    assert fallback, disposition
    assert "%22%3E%3Csvg" in fallback.group(2)


def test_the_api_attaches_a_file_and_says_where_to_fetch_it(web: Web) -> None:
    conversation = web.world.conversation("Kamau", owner=None)
    api = bearer(web.world, Role.MANAGER)
    answer = web.client.post(
        f"/api/v1/conversations/{conversation}/media",
        headers=api,
        data={"caption": "Receipt"},
        files={"file": ("receipt.pdf", SAMPLE_PDF, "application/pdf")},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["type"] == "document" and body["caption"] == "Receipt"
    assert body["delivery_state"] == "queued"
    assert body["media"]["file_name"] == "receipt.pdf" and body["media"]["size"] == len(SAMPLE_PDF)
    fetched = web.client.get(body["media"]["url"], headers=api)
    assert fetched.content == SAMPLE_PDF
    refused = web.client.post(
        f"/api/v1/conversations/{conversation}/media",
        headers=api,
        files={"file": ("page.html", b"<html>", "text/html")},
    )
    assert refused.status_code == 400 and "text/html" in refused.json()["error"]
    missing = web.client.post(
        f"/api/v1/conversations/{conversation}/media", headers=api, data={"caption": "x"}
    )
    assert missing.status_code == 400
