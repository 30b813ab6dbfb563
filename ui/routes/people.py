"""The customer record page, and the admin's page of teammates and their sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from engine.auth.passwords_admin import end_sessions_of
from engine.db import unit_of_work, workspace_session
from engine.inbox.contacts import contact_view, team_overview
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PeopleController(Controller):
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get("/inbox/contacts/{contact_id:int}", sync_to_thread=True)
    def contact(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, contact_id: FromPath[int]
    ) -> Template:
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            context["contact"] = contact_view(session, principal, contact_id, audit_at=now)
        return Template(template_name="contact.html", context=context)

    @get("/account/team", sync_to_thread=True)
    def team(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            context["people"] = team_overview(session, principal, now)
        return Template(template_name="team.html", context=context)

    @post("/account/team/{teammate_id:int}/signout", sync_to_thread=True)
    def sign_out(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            end_sessions_of(session, principal, teammate_id, runtime.clock.now())
        return Redirect(path="/account/team", status_code=303)
