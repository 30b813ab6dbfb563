"""The manager's view: queue health per team and teammate, linking into the inbox."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import Template

from engine.auth.policy import Action, require
from engine.db import workspace_session
from engine.inbox.lookup import directory
from engine.reports.manager import manager_view
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal


class ManagerController(Controller):
    path = "/manager"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def view(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        team: FromQuery[int | None] = None,
        teammate: FromQuery[int | None] = None,
    ) -> Template:
        require(principal, Action.VIEW_REPORTS)
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            view = manager_view(session, now, team_id=team, owner_id=teammate)
            teammates, teams = directory(session)
        context.update(
            view=view, teammates=teammates, teams=teams, team_filter=team, teammate_filter=teammate
        )
        return Template(template_name="manager.html", context=context)
