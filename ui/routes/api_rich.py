"""Richer sends in the JSON API: reply buttons, a list, a location, a contact card, a reaction.

POST /api/v1/conversations/{id}/rich with, for example,
{"kind": "buttons", "body": "Deliver today?", "buttons": ["Yes", "No"]}. WhatsApp's limits
and the 24-hour window are checked by the same reducer as the reply box: 400 with the
reason when a limit is broken, 409 outside the window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from engine.automation.staff import Desk
from engine.inbox.rich_replies import rich_from_json, send_rich
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS, message_read, write_at_desk
from ui.routes.api_schemas import MessageRead
from ui.routes.conversation import kick_outbox
from ui.security.auth import PrincipalDependency, api_principal


class RichApiController(Controller):
    path = "/api/v1/conversations"
    tags = ["inbox"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @post("/{conversation_id:int}/rich", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def send_rich(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[dict[str, Any]],
    ) -> MessageRead:
        """Send buttons, a list, a location, a contact card or a reaction (inside the window).
        `seen_message_id` and `confirmed` work as for /messages."""

        def work(desk: Desk, now: datetime) -> MessageRead:
            seen = data.get("seen_message_id")
            message = send_rich(
                desk,
                principal,
                conversation_id,
                rich_from_json(data),
                now=now,
                seen_message_id=int(seen) if seen is not None else None,
                confirmed=bool(data.get("confirmed")),
            )
            return message_read(message)

        created = write_at_desk(runtime, principal, conversation_id, work)
        kick_outbox(runtime, principal.workspace_id, conversation_id)
        return created
