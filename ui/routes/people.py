"""The customer record page, and the admin's page of teammates and their sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from engine.auth import Principal
from engine.auth.passwords_admin import UnknownTeammate, end_sessions_of, reset_password_of
from engine.composition import Runtime
from engine.db import unit_of_work, workspace_session
from engine.inbox.contacts import contact_view, team_overview
from engine.inbox.errors import NotFound
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _team_page(
    runtime: Runtime, principal: Principal, issued: tuple[str, str, str] | None
) -> Template:
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        context = page_context(session, principal, now).as_dict()
        context["people"] = team_overview(session, principal, now)
    context["issued"] = issued
    # A page showing a password must not be kept by the browser or a proxy.
    return Template(
        template_name="team.html", context=context, headers={"Cache-Control": "no-store"}
    )


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
        return _team_page(runtime, principal, issued=None)

    @post("/account/team/{teammate_id:int}/password", sync_to_thread=True)
    def new_password(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate_id: FromPath[int],
        data: Form,
    ) -> Template:
        """Show a fresh password once, for the admin to hand over (the invite)."""
        try:
            with unit_of_work(runtime.db, principal.workspace_id) as session:
                teammate, password = reset_password_of(
                    session, principal, teammate_id, runtime.clock.now()
                )
        except UnknownTeammate as missing:
            raise NotFound(str(missing)) from None
        return _team_page(runtime, principal, issued=(teammate.name, teammate.handle, password))

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
