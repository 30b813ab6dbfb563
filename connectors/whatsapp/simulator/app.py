"""The simulator's HTTP face: the Cloud API send endpoint, a control API, and a page.

- `POST /{version}/{phone_number_id}/messages`: what `CloudApiSender` talks to.
- `GET /{version}/{waba_id}/message_templates`: the approved templates and their status.
- `POST /{version}/{phone_number_id}/media`, `GET /{version}/{media_id}` and the URL it
  names (`/_sim/media/{media_id}/download`): media upload and download, bearer only.
- `GET /_sim/state`, `GET /_sim/sends`, `GET /_sim/deliveries`: what happened.
- `GET|POST|DELETE /_sim/faults`: read, switch (`{"spec": "429:2,reorder"}`), reset faults.
- `POST /_sim/customers/{wa_id}/messages`: a customer sends a step (`{"text": "hi"}`);
  answers with its wamid at once, the webhook follows.
- `POST /_sim/run-script`: play the scripted customers (again).
- `GET /`: a page showing the chats, with a box to type as a customer.

Meant for 127.0.0.1: the control API has no authentication of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody

from connectors.whatsapp.simulator.faults import Faults, FaultSpecError, parse_faults
from connectors.whatsapp.simulator.media import StoredMedia
from connectors.whatsapp.simulator.payloads import StepError
from connectors.whatsapp.simulator.world import Simulator

PAGE = Path(__file__).with_name("page.html")


def create_app(simulator: Simulator) -> Litestar:
    """A Litestar app bound to `simulator`; it starts and stops with the app."""

    @post("/{version:str}/{phone_number_id:str}/messages", media_type=MediaType.JSON)
    async def send_message(
        request: Request[Any, Any, Any], version: FromPath[str], phone_number_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        answer = await simulator.handle_send(
            request.headers.get("authorization"), phone_number_id, await request.body()
        )
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return Response(answer.body, status_code=answer.status)

    @post(
        "/{version:str}/{phone_number_id:str}/media",
        media_type=MediaType.JSON,
        request_max_body_size=110 * 1024 * 1024,
    )
    async def upload_media(
        request: Request[Any, Any, Any], version: FromPath[str], phone_number_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        form = await request.form()
        upload = form.get("file")
        file = None
        if isinstance(upload, UploadFile):
            file = StoredMedia(
                await upload.read(), upload.content_type or "", upload.filename or None
            )
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        answer = simulator.handle_upload(
            request.headers.get("authorization"), phone_number_id, fields, file
        )
        return Response(answer.body, status_code=answer.status)

    @get("/{version:str}/{waba_id:str}/message_templates", media_type=MediaType.JSON)
    async def template_list(
        request: Request[Any, Any, Any], version: FromPath[str], waba_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        answer = simulator.handle_template_list(request.headers.get("authorization"), waba_id)
        return Response(answer.body, status_code=answer.status)

    @get("/{version:str}/{media_id:str}", media_type=MediaType.JSON)
    async def media_lookup(
        request: Request[Any, Any, Any], version: FromPath[str], media_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        answer = simulator.handle_media_lookup(
            request.headers.get("authorization"), media_id, str(request.base_url)
        )
        return Response(answer.body, status_code=answer.status)

    @get("/_sim/media/{media_id:str}/download")
    async def media_download(
        request: Request[Any, Any, Any], media_id: FromPath[str]
    ) -> Response[bytes]:
        found = simulator.media_bytes(request.headers.get("authorization"), media_id)
        if isinstance(found, int):
            return Response(b"", status_code=found)
        return Response(found.data, media_type=found.mime_type or "application/octet-stream")

    @get("/", media_type=MediaType.HTML)
    async def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @get("/_sim/state")
    async def state() -> dict[str, Any]:
        return simulator.state()

    @get("/_sim/sends")
    async def sends() -> list[dict[str, Any]]:
        return [asdict(record) for record in simulator.sends]

    @get("/_sim/deliveries")
    async def deliveries() -> list[dict[str, Any]]:
        return [asdict(record) for record in simulator.delivery.log]

    @get("/_sim/faults")
    async def faults() -> dict[str, Any]:
        return simulator.faults.as_dict()

    @post("/_sim/faults")
    async def switch_faults(data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
        try:
            parse_faults(str(data.get("spec", "")), into=simulator.faults)
        except FaultSpecError as error:
            return Response({"error": str(error)}, status_code=400)
        return Response(simulator.faults.as_dict(), status_code=200)

    @delete("/_sim/faults", status_code=200)
    async def reset_faults() -> dict[str, Any]:
        for name, value in vars(Faults()).items():
            setattr(simulator.faults, name, value)
        return simulator.faults.as_dict()

    @post("/_sim/customers/{wa_id:str}/messages")
    async def customer_message(
        wa_id: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        if not wa_id.isdigit():
            return Response({"error": "wa_id is digits only"}, status_code=400)
        try:
            wamid = await simulator.customer_says(wa_id, data, wait=False)
        except StepError as error:
            return Response({"error": str(error)}, status_code=400)
        return Response({"id": wamid}, status_code=200)

    @post("/_sim/customers/{wa_id:str}/echoes")
    async def business_app_message(
        wa_id: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        """The business writes to this customer from its WhatsApp Business app (an echo)."""
        if not wa_id.isdigit():
            return Response({"error": "wa_id is digits only"}, status_code=400)
        try:
            wamid = await simulator.business_app_says(wa_id, data)
        except StepError as error:
            return Response({"error": str(error)}, status_code=400)
        return Response({"id": wamid}, status_code=200)

    @post("/_sim/webhooks/{shape:str}")
    async def other_webhook(
        shape: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        """test-sample, template-status, error or change: see Simulator.post_webhook."""
        try:
            return Response(await simulator.post_webhook(shape, data), status_code=200)
        except (StepError, ValueError) as error:
            return Response({"error": str(error)}, status_code=400)

    @post("/_sim/run-script")
    async def run_script() -> Response[dict[str, Any]]:
        simulator.play_script()
        return Response({"customers": len(simulator.script.customers)}, status_code=200)

    return Litestar(
        route_handlers=[
            send_message,
            upload_media,
            template_list,
            media_lookup,
            media_download,
            page,
            state,
            sends,
            deliveries,
            faults,
            switch_faults,
            reset_faults,
            customer_message,
            business_app_message,
            other_webhook,
            run_script,
        ],
        on_startup=[simulator.start],
        on_shutdown=[simulator.stop],
    )
