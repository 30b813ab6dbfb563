"""The teammate's notifications: rules and escalations that asked for their attention."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from engine.db import unit_of_work, workspace_session
from engine.inbox.notifications import latest, mark_all_read
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal


class NotificationsController(Controller):
    path = "/notifications"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def page(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            context.update(notifications=latest(session, principal))
        return Template(template_name="notifications.html", context=context)

    @post("/read", sync_to_thread=True)
    def read(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Redirect:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            mark_all_read(session, principal, runtime.clock.now())
        return Redirect(path="/notifications", status_code=303)
