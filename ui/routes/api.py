"""The JSON API under /api/v1: what the pages do, for integrations and scripts.

Authenticated by `Authorization: Bearer <token>` (kazi token create); every
handler calls the same engine.inbox service as the page, under the same policy.
Errors are JSON: {"status": 404, "error": "no conversation 7"}.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ExceptionHandlersMap
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth import Forbidden, Principal
from engine.auth.policy import Action
from engine.automation.runner import rules_in_force
from engine.automation.staff import Desk, act_on_conversation, desk_for
from engine.automation.state import line_items_of
from engine.composition import Runtime
from engine.core.config import Pipeline, Template, WorkspaceConfig
from engine.db import unit_of_work, workspace_session
from engine.inbox.contacts import ContactView, contact_view, find_contacts
from engine.inbox.conversation import conversation_view
from engine.inbox.details import set_conversation_details
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.inbox.objects import (
    LineInput,
    NewObject,
    create_for_conversation,
    objects_of,
    set_line_items,
    update_object,
)
from engine.inbox.ownership import assign
from engine.inbox.queues import QueueFilters, list_queue, parse_queue, queue_counts
from engine.inbox.quick_replies import quick_replies_for
from engine.inbox.replies import ReplyRace, reply_template, reply_text, send_held
from engine.inbox.stages import move_stage
from engine.inbox.work import (
    NoteAdded,
    add_note,
    add_tag,
    cancel_scheduled,
    complete_task,
    create_task,
    remove_tag,
    set_status,
    snooze,
)
from engine.models import BusinessObject, Message, Note, ScheduledAction, Task, Workspace
from ui.dependencies import RuntimeDependency
from ui.routes.api_schemas import (
    AssignmentUpdate,
    BusinessObjectCreate,
    BusinessObjectRead,
    BusinessObjectUpdate,
    ConversationDetail,
    ConversationPage,
    ConversationRead,
    LineItemRead,
    MessageCreate,
    MessageRead,
    NoteCreate,
    NoteRead,
    NotNotified,
    QuickRepliesRead,
    QuickReplyRead,
    ScheduledActionRead,
    SnoozeUpdate,
    StageUpdate,
    StatusUpdate,
    TagCreate,
    TaskCreate,
    TaskRead,
)
from ui.routes.conversation import kick_outbox
from ui.security.auth import PrincipalDependency, api_principal

T = TypeVar("T")


def _json_error(status: int, message: str, **extra: Any) -> Response[dict[str, Any]]:
    return Response({"status": status, "error": message, **extra}, status_code=status)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    extra = {"detail": error.extra} if error.extra else {}
    return _json_error(error.status_code, error.detail, **extra)


def _race(request: Request[Any, Any, Any], error: ReplyRace) -> Response[dict[str, Any]]:
    return _json_error(
        409,
        str(error),
        replied_by=error.author,
        seconds_ago=error.seconds_ago,
        message_id=error.message_id,
        hint="send again with confirmed=true, or with seen_message_id set to message_id",
    )


API_ERRORS: ExceptionHandlersMap = {
    HTTPException: _http_error,
    ReplyRace: _race,
    NotFound: lambda request, error: _json_error(404, str(error)),
    Forbidden: lambda request, error: _json_error(403, str(error)),
    Conflict: lambda request, error: _json_error(409, str(error)),
    InvalidInput: lambda request, error: _json_error(400, str(error)),
}


def read_in_workspace(runtime: Runtime, principal: Principal, work: Callable[[Session], T]) -> T:
    with workspace_session(runtime.db, principal.workspace_id) as session:
        return work(session)


def write_at_desk(
    runtime: Runtime,
    principal: Principal,
    conversation_id: int | None,
    work: Callable[[Desk, datetime], T],
) -> T:
    """One transaction; about a conversation, locked first, its changes through the rules."""
    now = runtime.clock.now()
    if conversation_id is None:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            return work(desk_for(session, rules), now)
    return act_on_conversation(
        runtime.db,
        runtime.configs,
        principal.workspace_id,
        conversation_id,
        lambda desk: work(desk, now),
        now,
    )


def message_read(message: Message) -> MessageRead:
    return MessageRead(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        type=message.type,
        body=message.body,
        delivery_state=message.delivery_state,
        created_at=message.provider_timestamp or message.created_at,
    )


def _note(note: Note) -> NoteRead:
    return NoteRead(
        note.id, note.conversation_id, note.body, note.author_teammate_id, note.created_at
    )


def _added_note(added: NoteAdded) -> NoteRead:
    read = _note(added.note)
    read.notified = list(added.notified)
    read.not_notified = [NotNotified(handle, why) for handle, why in added.not_notified]
    return read


def _task(task: Task) -> TaskRead:
    return TaskRead(
        task.id, task.title, task.due_at, task.assignee_id, task.done_at, task.conversation_id
    )


def workspace_config(
    runtime: Runtime, session: Session, workspace_id: int
) -> WorkspaceConfig | None:
    workspace = session.get(Workspace, workspace_id)
    return runtime.configs.config(workspace.slug) if workspace else None


def _object(item: BusinessObject) -> BusinessObjectRead:
    return BusinessObjectRead(
        id=item.id,
        kind=item.kind,
        external_ref=item.external_ref,
        status=item.status,
        amount=str(item.amount) if item.amount is not None else None,
        currency=item.currency,
        contact_id=item.contact_id,
        pipeline=item.pipeline,
        stage=item.stage,
        fields=dict(item.fields or {}),
        items=[
            LineItemRead(
                line.description, str(line.quantity), str(line.unit_price), str(line.total)
            )
            for line in line_items_of(item.line_items)
        ],
    )


def _templates(runtime: Runtime, session: Session, workspace_id: int) -> tuple[Template, ...]:
    config = workspace_config(runtime, session, workspace_id)
    return config.templates if config else ()


def _pipelines(runtime: Runtime, session: Session, workspace_id: int) -> tuple[Pipeline, ...]:
    config = workspace_config(runtime, session, workspace_id)
    return config.pipelines if config else ()


def _detail(runtime: Runtime, principal: Principal, conversation_id: int) -> ConversationDetail:
    def work(session: Session) -> ConversationDetail:
        view = conversation_view(
            session,
            principal,
            conversation_id,
            templates=_templates(runtime, session, principal.workspace_id),
            pipelines=_pipelines(runtime, session, principal.workspace_id),
            now=runtime.clock.now(),
        )
        return ConversationDetail.of(view)

    return read_in_workspace(runtime, principal, work)


class ApiController(Controller):
    path = "/api/v1"
    tags = ["inbox"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get("/conversations", sync_to_thread=True)
    def conversations(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        queue: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        stage: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        owner_id: FromQuery[int | None] = None,
        page: FromQuery[int] = 1,
    ) -> ConversationPage:
        """A queue (mine, unassigned, team, all, waiting_on_us, waiting_on_customer, snoozed,
        resolved), longest waiting first, with every queue's count."""
        chosen = parse_queue(queue)
        filters = QueueFilters(stage=stage, tag=tag, owner_id=owner_id, search=q)
        now = runtime.clock.now()

        def work(session: Session) -> ConversationPage:
            listing = list_queue(session, principal, chosen, now, filters, page)
            counts = queue_counts(session, principal, now)
            return ConversationPage(
                queue=chosen.value,
                page=listing.page,
                has_more=listing.has_more,
                counts={q.value: n for q, n in counts.items()},
                items=[ConversationRead.of(row) for row in listing.rows],
            )

        return read_in_workspace(runtime, principal, work)

    @get("/conversations/{conversation_id:int}", sync_to_thread=True)
    def conversation(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> ConversationDetail:
        """The conversation with its whole history in order."""
        return _detail(runtime, principal, conversation_id)

    @get("/conversations/{conversation_id:int}/messages", sync_to_thread=True)
    def messages(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[MessageRead]:
        def work(session: Session) -> list[MessageRead]:
            conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
            return [
                message_read(m)
                for m in session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.id)
                )
            ]

        return read_in_workspace(runtime, principal, work)

    @post(
        "/conversations/{conversation_id:int}/messages",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def send(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[MessageCreate],
    ) -> MessageRead:
        """Reply with free text (inside the 24-hour window) or a template (any time).
        409 when another teammate replied since `seen_message_id`, unless `confirmed`."""

        def work(desk: Desk, now: datetime) -> MessageRead:
            if data.template:
                message = reply_template(
                    desk,
                    principal,
                    conversation_id,
                    name=data.template,
                    language=data.language,
                    parameters=data.parameters,
                    now=now,
                )
            elif data.body is not None:
                message = reply_text(
                    desk,
                    principal,
                    conversation_id,
                    data.body,
                    now=now,
                    seen_message_id=data.seen_message_id,
                    confirmed=data.confirmed,
                )
            else:
                raise InvalidInput("send either body (free text) or template")
            return message_read(message)

        created = write_at_desk(runtime, principal, conversation_id, work)
        kick_outbox(runtime, principal.workspace_id, conversation_id)
        return created

    @get("/conversations/{conversation_id:int}/notes", sync_to_thread=True)
    def notes(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[NoteRead]:
        def work(session: Session) -> list[NoteRead]:
            conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
            return [
                _note(n)
                for n in session.scalars(
                    select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)
                )
            ]

        return read_in_workspace(runtime, principal, work)

    @post(
        "/conversations/{conversation_id:int}/notes",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def note(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[NoteCreate],
    ) -> NoteRead:
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: _added_note(
                add_note(desk, principal, conversation_id, data.body, now)
            ),
        )

    @get("/conversations/{conversation_id:int}/quick-replies", sync_to_thread=True)
    def quick_replies(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> QuickRepliesRead:
        """replies.yaml's quick replies, filled in for this conversation."""

        def work(session: Session) -> QuickRepliesRead:
            config = workspace_config(runtime, session, principal.workspace_id)
            offered = quick_replies_for(
                session,
                principal,
                conversation_id,
                config.quick_replies if config else (),
                runtime.clock.now(),
            )
            return QuickRepliesRead(
                available=offered.available,
                reason=offered.reason,
                replies=[
                    QuickReplyRead(r.shortcut, r.title, r.language, r.text) for r in offered.replies
                ],
            )

        return read_in_workspace(runtime, principal, work)

    @get("/conversations/{conversation_id:int}/tasks", sync_to_thread=True)
    def tasks(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[TaskRead]:
        def work(session: Session) -> list[TaskRead]:
            conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
            return [
                _task(t)
                for t in session.scalars(
                    select(Task).where(Task.conversation_id == conversation_id).order_by(Task.id)
                )
            ]

        return read_in_workspace(runtime, principal, work)

    @post(
        "/conversations/{conversation_id:int}/tasks",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def task(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[TaskCreate],
    ) -> TaskRead:
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: _task(
                create_task(
                    desk,
                    principal,
                    conversation_id,
                    title=data.title,
                    due_at=data.due_at,
                    assignee_id=data.assignee_id,
                    now=now,
                )
            ),
        )

    @get("/conversations/{conversation_id:int}/scheduled", sync_to_thread=True)
    def scheduled(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[ScheduledActionRead]:
        """Every delayed follow-up rules scheduled here: pending ones and how the rest ended."""

        def work(session: Session) -> list[ScheduledActionRead]:
            conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
            return [
                ScheduledActionRead(
                    id=a.id,
                    rule=a.rule_name,
                    due_at=a.due_at,
                    unless=a.guard_text,
                    state=a.state,
                    outcome=a.outcome,
                )
                for a in session.scalars(
                    select(ScheduledAction)
                    .where(ScheduledAction.conversation_id == conversation_id)
                    .order_by(ScheduledAction.due_at, ScheduledAction.id)
                )
            ]

        return read_in_workspace(runtime, principal, work)

    @post(
        "/conversations/{conversation_id:int}/scheduled/{action_id:int}/cancel",
        sync_to_thread=True,
        status_code=HTTP_200_OK,
    )
    def cancel_scheduled_action(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        action_id: FromPath[int],
    ) -> dict[str, bool]:
        """Stop a pending follow-up before it runs; 409 when it already ran or was cancelled."""
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: cancel_scheduled(desk, principal, conversation_id, action_id, now),
        )
        return {"cancelled": True}

    @post(
        "/conversations/{conversation_id:int}/tasks/{task_id:int}/send",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def send_held(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        task_id: FromPath[int],
    ) -> MessageRead:
        """Send the message a rule held for an empty value, read again from the record;
        400 with what is still empty, 409 once it went."""
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: message_read(
                send_held(desk, principal, conversation_id, task_id, now)
            ),
        )

    @post("/tasks/{task_id:int}/done", sync_to_thread=True, status_code=HTTP_200_OK)
    def task_done(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, task_id: FromPath[int]
    ) -> TaskRead:
        return write_at_desk(
            runtime,
            principal,
            None,
            lambda desk, now: _task(complete_task(desk.session, principal, task_id, now)),
        )

    @put("/conversations/{conversation_id:int}/assignment", sync_to_thread=True)
    def assignment(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[AssignmentUpdate],
    ) -> ConversationDetail:
        """Assign to a teammate and/or team (both null: unassigned). 409 when the owner is no
        longer `expected_owner_id`."""
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: assign(
                desk,
                principal,
                conversation_id,
                expected_owner_id=data.expected_owner_id,
                teammate_id=data.teammate_id,
                team_id=data.team_id,
                note=data.note,
                now=now,
            ),
        )
        return _detail(runtime, principal, conversation_id)

    @put("/conversations/{conversation_id:int}/status", sync_to_thread=True)
    def status(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[StatusUpdate],
    ) -> ConversationDetail:
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: set_status(desk, principal, conversation_id, data.status, now),
        )
        return _detail(runtime, principal, conversation_id)

    @put("/conversations/{conversation_id:int}/stage", sync_to_thread=True)
    def stage(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[StageUpdate],
    ) -> ConversationDetail:
        """Move along the pipeline by an allowed move; 409 if the stage is no longer
        `expected_stage`."""
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: move_stage(
                desk,
                principal,
                conversation_id,
                stage=data.stage,
                expected_stage=data.expected_stage,
                now=now,
            ),
        )
        return _detail(runtime, principal, conversation_id)

    @put("/conversations/{conversation_id:int}/snooze", sync_to_thread=True)
    def snooze(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[SnoozeUpdate],
    ) -> ConversationDetail:
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: snooze(desk, principal, conversation_id, data.until, now),
        )
        return _detail(runtime, principal, conversation_id)

    @post(
        "/conversations/{conversation_id:int}/tags",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def add_tag(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[TagCreate],
    ) -> dict[str, str]:
        tag = write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: add_tag(desk, principal, conversation_id, data.name, now),
        )
        return {"tag": tag}

    @delete("/conversations/{conversation_id:int}/tags/{name:str}", sync_to_thread=True)
    def remove_tag(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        name: FromPath[str],
    ) -> None:
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: remove_tag(desk, principal, conversation_id, name, now),
        )

    @get("/conversations/{conversation_id:int}/objects", sync_to_thread=True)
    def objects(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> list[BusinessObjectRead]:
        """The orders, bookings, cases and payment requests linked to the conversation."""
        return read_in_workspace(
            runtime,
            principal,
            lambda session: [_object(o) for o in objects_of(session, principal, conversation_id)],
        )

    @post(
        "/conversations/{conversation_id:int}/objects",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
    )
    def create_object(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[BusinessObjectCreate],
    ) -> BusinessObjectRead:
        new = NewObject(
            kind=data.kind,
            external_ref=data.external_ref,
            status=data.status,
            amount=data.amount,
            currency=data.currency,
        )
        return write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: _object(
                create_for_conversation(desk, principal, conversation_id, new, now)
            ),
        )

    @patch("/conversations/{conversation_id:int}/objects/{object_id:int}", sync_to_thread=True)
    def update_object(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: JSONBody[BusinessObjectUpdate],
    ) -> BusinessObjectRead:
        """Fill in or correct an order, booking or case; the rules see each change."""
        values: dict[str, object] = {
            name: value
            for name, value in (
                ("external_ref", data.external_ref),
                ("status", data.status),
                ("amount", data.amount),
                ("currency", data.currency),
            )
            if value is not None
        }
        values.update(data.fields or {})
        lines = (
            [LineInput(i.description, i.quantity, i.unit_price) for i in data.items]
            if data.items is not None
            else None
        )

        def work(desk: Desk, now: datetime) -> BusinessObjectRead:
            if lines is not None:
                set_line_items(desk, principal, conversation_id, object_id, lines, now)
            return _object(update_object(desk, principal, conversation_id, object_id, values, now))

        return write_at_desk(runtime, principal, conversation_id, work)

    @put("/conversations/{conversation_id:int}/objects/{object_id:int}/stage", sync_to_thread=True)
    def object_stage(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: JSONBody[StageUpdate],
    ) -> list[BusinessObjectRead]:
        """Move a linked order (or booking, case) along its own pipeline; 409 if its stage is
        no longer `expected_stage`."""
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: move_stage(
                desk,
                principal,
                conversation_id,
                stage=data.stage,
                expected_stage=data.expected_stage,
                now=now,
                object_id=object_id,
            ),
        )
        return read_in_workspace(
            runtime,
            principal,
            lambda session: [_object(o) for o in objects_of(session, principal, conversation_id)],
        )

    @patch("/conversations/{conversation_id:int}/details", sync_to_thread=True)
    def details(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: JSONBody[dict[str, Any]],
    ) -> ConversationDetail:
        """Fill in the conversation's own fields (workspace.yaml `fields.conversation`); a value
        of null clears one, an undeclared name is refused with what to do."""
        write_at_desk(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: set_conversation_details(desk, principal, conversation_id, data, now),
        )
        return _detail(runtime, principal, conversation_id)

    @get("/contacts", sync_to_thread=True)
    def contacts(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, q: FromQuery[str] = ""
    ) -> list[ContactView]:
        """Contacts whose name or number contains `q`."""
        return read_in_workspace(
            runtime,
            principal,
            lambda session: [
                contact_view(session, principal, c.id) for c in find_contacts(session, principal, q)
            ],
        )

    @get("/contacts/{contact_id:int}", sync_to_thread=True)
    def contact(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, contact_id: FromPath[int]
    ) -> ContactView:
        """A contact with their addresses over time, conversations and business objects."""
        return read_in_workspace(
            runtime, principal, lambda session: contact_view(session, principal, contact_id)
        )
