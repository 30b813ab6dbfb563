"""Files in conversations: attach one from the page or the API, and fetch one, authorised.

Every file goes out through `file_for_viewer` (the one policy, the viewer's
workspace only) with headers that keep a hostile file harmless: an allow-listed
Content-Type, `nosniff`, a sandboxing CSP, `attachment` for everything but real
images, and a file name encoded by RFC 5987 so it cannot break the header.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from anyio.to_thread import run_sync
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_201_CREATED

from engine.auth import Forbidden, Principal
from engine.automation.staff import Desk, act_on_conversation
from engine.composition import Runtime
from engine.core.media import STORE_LIMIT
from engine.db import unit_of_work, workspace_session
from engine.inbox.attachments import ServedFile, attach_file, file_for_viewer
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.failures import retry_download
from engine.models import Message
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.routes.conversation import kick_outbox, render_conversation
from ui.routes.presentation import PAGE_ERRORS
from ui.security.auth import PrincipalDependency, api_principal, page_principal

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# The largest file Kazi keeps, plus room for the form's other fields.
UPLOAD_LIMIT = STORE_LIMIT + 1024 * 1024
# A file is never a page: no scripts, no plugins, no frames, even if a browser renders it.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def file_response(served: ServedFile) -> Response[bytes]:
    return Response(
        served.data,
        media_type=served.content_type,
        headers={
            "Content-Disposition": served.disposition,
            "Content-Security-Policy": FILE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=300",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


def _serve(runtime: Runtime, principal: Principal, media_file_id: int) -> Response[bytes]:
    with workspace_session(runtime.db, principal.workspace_id) as session:
        served = file_for_viewer(session, principal, media_file_id)
    return file_response(served)


async def _upload(data: dict[str, Any]) -> tuple[bytes, str | None, str | None, str]:
    """(bytes, declared type, file name, caption) from the multipart form."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("choose a file to send")
    content = await upload.read()
    caption = data.get("caption")
    return (
        content,
        upload.content_type,
        upload.filename,
        caption if isinstance(caption, str) else "",
    )


def _attach(
    runtime: Runtime,
    principal: Principal,
    conversation_id: int,
    content: bytes,
    mime_type: str | None,
    file_name: str | None,
    caption: str,
) -> dict[str, Any]:
    now = runtime.clock.now()

    def work(desk: Desk) -> dict[str, Any]:
        message = attach_file(
            desk,
            principal,
            conversation_id,
            data=content,
            mime_type=mime_type,
            file_name=file_name,
            caption=caption,
            now=now,
        )
        return _message_read(message)

    read = act_on_conversation(
        runtime.db, runtime.configs, principal.workspace_id, conversation_id, work, now
    )
    kick_outbox(runtime, principal.workspace_id, conversation_id)
    return read


def _message_read(message: Message) -> dict[str, Any]:
    media = message.media or {}
    file_id = media.get("media_file_id")
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "type": message.type,
        "caption": message.body,
        "delivery_state": message.delivery_state,
        "created_at": _iso(message.provider_timestamp),
        "media": {
            "file_id": file_id,
            "url": f"/api/v1/media/{file_id}",
            "mime_type": media.get("mime_type"),
            "file_name": media.get("filename"),
            "size": media.get("size"),
        },
    }


class MediaPageController(Controller):
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get("/media/{media_file_id:int}", sync_to_thread=True)
    def file(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        media_file_id: FromPath[int],
    ) -> Response[bytes]:
        return _serve(runtime, principal, media_file_id)

    @post("/inbox/c/{conversation_id:int}/attach", request_max_body_size=UPLOAD_LIMIT)
    async def attach(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Multipart,
    ) -> Response[Any]:
        try:
            content, mime_type, file_name, caption = await _upload(data)
            await _in_thread(
                _attach, runtime, principal, conversation_id, content, mime_type, file_name, caption
            )
        except (Conflict, InvalidInput, Forbidden) as refused:
            status = (
                409
                if isinstance(refused, Conflict)
                else 403
                if isinstance(refused, Forbidden)
                else 400
            )
            return await _in_thread(
                _render_refusal, runtime, principal, conversation_id, status, str(refused)
            )
        return Redirect(path=f"/inbox/c/{conversation_id}#attach", status_code=303)

    @post("/inbox/messages/{message_id:int}/fetch", sync_to_thread=True)
    def fetch_again(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, message_id: FromPath[int]
    ) -> Redirect:
        """Ask WhatsApp again for a customer's file Kazi gave up on (expired or failed)."""
        conversation_id = _fetch_again(runtime, principal, message_id)
        return Redirect(path=f"/inbox/c/{conversation_id}#m{message_id}", status_code=303)


def _fetch_again(runtime: Runtime, principal: Principal, message_id: int) -> int:
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        conversation_id = retry_download(
            session, principal, message_id, runtime.clock.now(), from_conversation=True
        )
    kick_outbox(runtime, principal.workspace_id, conversation_id)
    return conversation_id


def _render_refusal(
    runtime: Runtime, principal: Principal, conversation_id: int, status: int, error: str
) -> Response[Any]:
    return render_conversation(runtime, principal, conversation_id, status=status, error=error)


class MediaApiController(Controller):
    path = "/api/v1"
    tags = ["media"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get("/media/{media_file_id:int}", sync_to_thread=True)
    def file(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        media_file_id: FromPath[int],
    ) -> Response[bytes]:
        """A file from a conversation, with headers that keep it from running as a page."""
        return _serve(runtime, principal, media_file_id)

    @post(
        "/conversations/{conversation_id:int}/media",
        status_code=HTTP_201_CREATED,
        request_max_body_size=UPLOAD_LIMIT,
    )
    async def attach(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Multipart,
    ) -> dict[str, Any]:
        """Send a file (multipart `file`, optional `caption`) inside the 24-hour window:
        images (JPEG, PNG), video, audio and documents within WhatsApp's limits."""
        content, mime_type, file_name, caption = await _upload(data)
        read: dict[str, Any] = await _in_thread(
            _attach, runtime, principal, conversation_id, content, mime_type, file_name, caption
        )
        return read


async def _in_thread(function: Any, *arguments: Any) -> Any:
    """Database work off the event loop, as `sync_to_thread` handlers do."""
    return await run_sync(function, *arguments)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
