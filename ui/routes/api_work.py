"""The JSON API for filling in orders beyond their fields (links between objects),
escalations with a named decision-maker, and the signed-in teammate's tasks.

Thin handlers: each calls an engine.inbox service, which authorises and audits.
"""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.automation.staff import Desk
from engine.inbox import escalations as esc
from engine.inbox.lookup import conversation_for, teammate_named
from engine.inbox.my_tasks import tasks_of
from engine.inbox.objects import link_objects, related_objects, unlink_objects
from engine.models import BusinessObject, Escalation
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS, read_in_workspace, workspace_config, write_at_desk
from ui.routes.api_schemas import (
    EscalationCreate,
    EscalationDecision,
    EscalationRead,
    LinkedObjectRead,
    MyTaskRead,
    ObjectLinkCreate,
)
from ui.security.auth import PrincipalDependency, api_principal


def _linked(item: BusinessObject) -> LinkedObjectRead:
    amount = str(item.amount) if item.amount is not None else None
    return LinkedObjectRead(item.id, item.kind, item.external_ref, item.status, amount)


def escalation_read(escalation: Escalation, now: datetime) -> EscalationRead:
    asked_by = (
        escalation.asked_by.name if escalation.asked_by is not None else escalation.asked_by_rule
    )
    waiting = (
        int((now - escalation.asked_at).total_seconds()) if escalation.decided_at is None else None
    )
    return EscalationRead(
        id=escalation.id,
        conversation_id=escalation.conversation_id,
        decider_id=escalation.decider_id,
        decider=escalation.decider.name,
        reason=escalation.reason,
        asked_by=asked_by,
        asked_at=escalation.asked_at,
        decision=escalation.decision,
        note=escalation.note,
        decided_by=escalation.decided_by.name if escalation.decided_by is not None else None,
        decided_at=escalation.decided_at,
        waiting_seconds=waiting,
    )


class WorkApiController(Controller):
    path = "/api/v1"
    tags = ["work"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    # ----- links between business objects
    @get("/conversations/{conversation_id:int}/objects/{object_id:int}/links", sync_to_thread=True)
    def links(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
    ) -> list[LinkedObjectRead]:
        def work(session: Session) -> list[LinkedObjectRead]:
            conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
            return [_linked(o) for o in related_objects(session, object_id)]

        return read_in_workspace(runtime, principal, work)

    @post(
        "/conversations/{conversation_id:int}/objects/{object_id:int}/links",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def link(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: JSONBody[ObjectLinkCreate],
    ) -> list[LinkedObjectRead]:
        """Link the object to an existing one, named by reference or id; audited."""

        def work(desk: Desk, now: datetime) -> list[LinkedObjectRead]:
            link_objects(desk, principal, conversation_id, object_id, data.object, now)
            return [_linked(o) for o in related_objects(desk.session, object_id)]

        return write_at_desk(runtime, principal, conversation_id, work)

    @delete(
        "/conversations/{conversation_id:int}/objects/{object_id:int}/links/{other_id:int}",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def unlink(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        other_id: FromPath[int],
    ) -> dict[str, bool]:
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: unlink_objects(
                desk, principal, conversation_id, object_id, other_id, now
            ),
        )
        return {"unlinked": True}

    # ----- escalations
    @get("/conversations/{conversation_id:int}/escalations", sync_to_thread=True)
    def escalations(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[EscalationRead]:
        now = runtime.clock.now()
        return read_in_workspace(
            runtime,
            principal,
            lambda session: [
                escalation_read(e, now)
                for e in esc.of_conversation(session, principal, conversation_id)
            ],
        )

    @post(
        "/conversations/{conversation_id:int}/escalations",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def escalate(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[EscalationCreate],
    ) -> EscalationRead:
        """Ask one teammate to decide, with the reason; they are notified and get a task."""
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: escalation_read(
                esc.escalate(desk, principal, conversation_id, data.decider_id, data.reason, now),
                now,
            ),
        )

    @post(
        "/conversations/{conversation_id:int}/escalations/{escalation_id:int}/decision",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def decide(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        escalation_id: FromPath[int],
        data: JSONBody[EscalationDecision],
    ) -> EscalationRead:
        """Approve or decline, with a note; 403 for anyone but the decision-maker or a
        manager, 409 once decided."""
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: escalation_read(
                esc.decide(
                    desk, principal, conversation_id, escalation_id, data.decision, data.note, now
                ),
                now,
            ),
        )

    @get("/escalations", sync_to_thread=True)
    def waiting_escalations(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> list[EscalationRead]:
        """Escalations still waiting for a decision, longest first: all of them for a
        manager, those the teammate must decide otherwise."""
        now = runtime.clock.now()
        return read_in_workspace(
            runtime,
            principal,
            lambda session: [escalation_read(e, now) for e in esc.waiting(session, principal)],
        )

    # ----- my tasks
    @get("/teammates/{teammate_id:int}/tasks", sync_to_thread=True)
    def teammate_tasks(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, teammate_id: FromPath[int]
    ) -> list[MyTaskRead]:
        """A teammate's open tasks across conversations, in the My tasks page's order
        (overdue, due today, later, undated). API tokens are nobody, so they name whose."""
        return self._tasks(runtime, principal, teammate_id)

    @staticmethod
    def _tasks(
        runtime: RuntimeDependency, principal: PrincipalDependency, teammate_id: int
    ) -> list[MyTaskRead]:
        now = runtime.clock.now()

        def work(session: Session) -> list[MyTaskRead]:
            config = workspace_config(runtime, session, principal.workspace_id)
            zone = config.timezone if config is not None else "UTC"
            teammate_named(session, teammate_id)
            found = tasks_of(session, teammate_id, now, zone)
            return [
                MyTaskRead(
                    t.id,
                    t.title,
                    t.due_at,
                    t.when,
                    t.conversation_id,
                    t.customer,
                    t.object_kind,
                    t.object_reference,
                )
                for t in found
            ]

        return read_in_workspace(runtime, principal, work)


__all__ = ["WorkApiController", "escalation_read"]
