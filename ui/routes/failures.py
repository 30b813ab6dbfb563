"""Failed sends and unapplied events, listed with what they mean, retryable: page and API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from engine.auth import Forbidden, Principal, Role
from engine.composition import Runtime
from engine.db import unit_of_work, workspace_session
from engine.inbox.failures import list_failures, retry_download, retry_event
from engine.inbox.replies import retry_message
from engine.whatsapp.templates import TemplateSyncFailed, sync_workspace_templates
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.routes.conversation import kick_outbox
from ui.routes.presentation import PAGE_ERRORS, page_context, workspace_of
from ui.security.auth import PrincipalDependency, api_principal, page_principal


def _retry_send(runtime: Runtime, principal: Principal, message_id: int) -> None:
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        message = retry_message(session, principal, message_id, runtime.clock.now())
        conversation_id = message.conversation_id
    kick_outbox(runtime, principal.workspace_id, conversation_id)


def _retry_download(runtime: Runtime, principal: Principal, message_id: int) -> None:
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        conversation_id = retry_download(session, principal, message_id, runtime.clock.now())
    kick_outbox(runtime, principal.workspace_id, conversation_id)


def _page(runtime: Runtime, principal: Principal, **extra: Any) -> Template:
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        failures = list_failures(session, principal)
        context = page_context(session, principal, now).as_dict()
    context.update(failures=failures, may_sync_templates=principal.at_least(Role.ADMIN), **extra)
    return Template(template_name="failures.html", context=context)


def _retry_event(runtime: Runtime, principal: Principal, event_id: int) -> None:
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        retry_event(session, principal, event_id)


class FailuresPageController(Controller):
    path = "/failures"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def page(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        return _page(runtime, principal)

    @post("/templates/sync", sync_to_thread=True)
    def sync_templates(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> Template:
        """An admin's `kazi templates sync`: Meta's template list, statuses kept, reported."""
        if not principal.at_least(Role.ADMIN):
            raise Forbidden("only an admin may sync the templates with Meta")
        with workspace_session(runtime.db, principal.workspace_id) as session:
            slug = workspace_of(session, principal).slug
        try:
            report = sync_workspace_templates(
                runtime.db, runtime.configs, slug, runtime.clock.now()
            )
            lines = report.lines()
        except TemplateSyncFailed as error:
            lines = [str(error)]
        return _page(runtime, principal, template_sync=lines)

    @post("/messages/{message_id:int}/retry", sync_to_thread=True)
    def retry_send(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, message_id: FromPath[int]
    ) -> Redirect:
        _retry_send(runtime, principal, message_id)
        return Redirect(path="/failures", status_code=303)

    @post("/downloads/{message_id:int}/retry", sync_to_thread=True)
    def retry_download(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, message_id: FromPath[int]
    ) -> Redirect:
        _retry_download(runtime, principal, message_id)
        return Redirect(path="/failures", status_code=303)

    @post("/events/{event_id:int}/retry", sync_to_thread=True)
    def retry_event(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, event_id: FromPath[int]
    ) -> Redirect:
        _retry_event(runtime, principal, event_id)
        return Redirect(path="/failures", status_code=303)


class FailuresApiController(Controller):
    path = "/api/v1"
    tags = ["failures"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get("/failures", sync_to_thread=True)
    def failures(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> dict[str, Any]:
        """Failed sends (with WhatsApp's code and its meaning) and unapplied inbound events."""
        with workspace_session(runtime.db, principal.workspace_id) as session:
            found = list_failures(session, principal)
        return {
            "sends": [asdict(send) for send in found.sends],
            "events": [asdict(event) for event in found.events],
            "downloads": [asdict(download) for download in found.downloads],
        }

    @post("/messages/{message_id:int}/retry", sync_to_thread=True, status_code=HTTP_200_OK)
    def retry_send(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, message_id: FromPath[int]
    ) -> dict[str, str]:
        _retry_send(runtime, principal, message_id)
        return {"status": "queued"}

    @post("/downloads/{message_id:int}/retry", sync_to_thread=True, status_code=HTTP_200_OK)
    def retry_download(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, message_id: FromPath[int]
    ) -> dict[str, str]:
        """Fetch a customer's file again after Kazi gave up on it."""
        _retry_download(runtime, principal, message_id)
        return {"status": "queued"}

    @post("/events/{event_id:int}/retry", sync_to_thread=True, status_code=HTTP_200_OK)
    def retry_event(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, event_id: FromPath[int]
    ) -> dict[str, str]:
        _retry_event(runtime, principal, event_id)
        return {"status": "received"}
