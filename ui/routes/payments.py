"""The managers' payments page: every M-Pesa request and unmatched payment, by state."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from engine.db import unit_of_work, workspace_session
from engine.payments.staff import ask_again, list_payments, mark_paid_by_hand, match_to_order
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

    @post("/{payment_id:int}/paid", sync_to_thread=True)
    def mark_paid(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        payment_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Money seen on the statement: paid by hand, with the reason (audited)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            mark_paid_by_hand(
                session,
                runtime.configs,
                principal,
                payment_id,
                data.get("reason", ""),
                runtime.clock.now(),
            )
        return Redirect(path="/payments", status_code=303)

    @post("/{payment_id:int}/match", sync_to_thread=True)
    def match(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        payment_id: FromPath[int],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """An unmatched paybill/till payment belongs to the order with this reference."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            match_to_order(
                session,
                runtime.configs,
                principal,
                payment_id,
                data.get("reference", ""),
                runtime.clock.now(),
            )
        return Redirect(path="/payments", status_code=303)
