"""The managers' payments page: every M-Pesa request and unmatched payment, by state."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from engine.db import unit_of_work, workspace_session
from engine.payments.staff import ask_again, list_payments
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal


class PaymentsPageController(Controller):
    path = "/payments"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def page(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            payments = list_payments(session, principal)
            context = page_context(session, principal, now).as_dict()
        context.update(payments=payments)
        return Template(template_name="payments.html", context=context)

    @post("/{payment_id:int}/query", sync_to_thread=True)
    def query(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, payment_id: FromPath[int]
    ) -> Redirect:
        """Ask M-Pesa again: a worker runs the query within seconds (the sweeper hands it out)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            ask_again(session, principal, payment_id, runtime.clock.now())
        return Redirect(path="/payments", status_code=303)
