"""My tasks: the signed-in teammate's open tasks across conversations, most pressing first."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from engine.db import unit_of_work, workspace_session
from engine.inbox.my_tasks import When, my_tasks
from engine.inbox.work import complete_task
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context, workspace_of
from ui.security.auth import PrincipalDependency, page_principal


class MyTasksController(Controller):
    path = "/tasks"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def page(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            zone = workspace_of(session, principal).timezone
            tasks = my_tasks(session, principal, now, zone)
        context.update(
            tasks=tasks,
            pressing=[t for t in tasks if t.when in (When.OVERDUE, When.TODAY)],
            later=[t for t in tasks if t.when not in (When.OVERDUE, When.TODAY)],
            When=When,
        )
        return Template(
            template_name="tasks.html", context=context, headers={"Cache-Control": "no-store"}
        )

    @post("/{task_id:int}/done", sync_to_thread=True)
    def done(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, task_id: FromPath[int]
    ) -> Redirect:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            complete_task(session, principal, task_id, runtime.clock.now())
        return Redirect(path="/tasks", status_code=303)
