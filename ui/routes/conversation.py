"""The conversation page and everything done from it without leaving it.

Each action calls one engine.inbox service in one transaction, then sends the
browser back to the page (303), so a reload never repeats an action. A refusal
re-renders the page with the reason (and, for a reply race, a confirm button).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from engine.auth import Forbidden, Principal
from engine.automation.staff import Desk, act_on_conversation
from engine.composition import Runtime
from engine.db import workspace_session
from engine.inbox import escalations
from engine.inbox.conversation import conversation_view
from engine.inbox.details import set_conversation_details
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.navigation import neighbour_in_queue
from engine.inbox.objects import (
    LineInput,
    NewObject,
    create_for_conversation,
    link_objects,
    set_line_items,
    unlink_objects,
    update_object,
)
from engine.inbox.ownership import assign, claim
from engine.inbox.queues import parse_queue
from engine.inbox.quick_replies import quick_replies_for
from engine.inbox.replies import ReplyRace, reply_template, reply_text, retry_message, send_held
from engine.inbox.rich_replies import rich_from_form, send_rich
from engine.inbox.stages import move_stage
from engine.inbox.work import (
    add_note,
    add_tag,
    cancel_scheduled,
    complete_task,
    create_task,
    remove_tag,
    set_status,
    snooze,
)
from engine.jobs.names import DISPATCH_OUTBOX_ROW
from engine.models import OutboxRow
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import (
    PAGE_ERRORS,
    page_context,
    parse_local_time,
    workspace_of,
    zone_of,
)
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Action = Callable[[Desk, datetime], object]
HANDLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def kick_outbox(runtime: Runtime, workspace_id: int, conversation_id: FromPath[int]) -> None:
    """Ask a worker to send what was just queued; if the queue is down the sweeper will."""
    with workspace_session(runtime.db, workspace_id) as session:
        row_ids = list(
            session.scalars(
                select(OutboxRow.id).where(
                    OutboxRow.conversation_id == conversation_id,
                    OutboxRow.state == "queued",
                    OutboxRow.enqueued_at.is_(None),
                )
            )
        )
    for row_id in row_ids:
        try:
            runtime.queue.enqueue(DISPATCH_OUTBOX_ROW, row_id=row_id)
        except Exception:  # the queue is down: the sweeper enqueues unsent rows later
            return


def render_conversation(
    runtime: Runtime,
    principal: Principal,
    conversation_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    race: ReplyRace | None = None,
    draft: str = "",
    template_name: str = "conversation.html",
    unnotified: tuple[str, ...] = (),
) -> Template:
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        page = page_context(session, principal, now)
        config = runtime.configs.config(page.workspace.slug)
        view = conversation_view(
            session,
            principal,
            conversation_id,
            templates=config.templates if config else (),
            pipelines=config.pipelines if config else (),
            fields=config.fields if config else (),
            now=now,
        )
        quick = quick_replies_for(
            session,
            principal,
            conversation_id,
            config.quick_replies if config else (),
            now,
        )
        context = page.as_dict()
    context.update(
        view=view,
        error=error,
        race=race,
        draft=draft,
        workspace_currency=config.currency if config else None,
        unnotified=unnotified,
        quick=quick,
    )
    return Template(template_name=template_name, context=context, status_code=status)


class ConversationController(Controller):
    path = "/inbox/c/{conversation_id:int}"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def show(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        unnotified: FromQuery[str | None] = None,
    ) -> Template:
        # Handles only, never free text from the address bar: the page words the notice.
        told = tuple(h for h in (unnotified or "").split(",") if HANDLE.match(h))[:10]
        return render_conversation(runtime, principal, conversation_id, unnotified=told)

    @get("/next", sync_to_thread=True)
    def next_in_queue(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        queue: FromQuery[str | None] = None,
        back: FromQuery[bool] = False,
    ) -> Redirect:
        """The keyboard's j / k on this page: the neighbour in the queue the agent came from."""
        chosen = parse_queue(queue)
        with workspace_session(runtime.db, principal.workspace_id) as session:
            found = neighbour_in_queue(
                session, principal, chosen, conversation_id, runtime.clock.now(), backwards=back
            )
        if found is None:
            return Redirect(path=f"/inbox?{urlencode({'queue': chosen.value})}")
        return Redirect(path=f"/inbox/c/{found}?{urlencode({'queue': chosen.value})}")

    @get("/timeline", sync_to_thread=True)
    def timeline(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> Template:
        """The history alone, polled by the page so new messages and ticks appear."""
        return render_conversation(
            runtime, principal, conversation_id, template_name="_timeline.html"
        )

    def _act(
        self,
        runtime: Runtime,
        principal: Principal,
        conversation_id: int,
        action: Action,
        *,
        anchor: str = "",
        draft: str = "",
        sends: bool = False,
        back: str = "",
    ) -> Response[Any]:
        now = runtime.clock.now()
        try:
            act_on_conversation(
                runtime.db,
                runtime.configs,
                principal.workspace_id,
                conversation_id,
                lambda desk: action(desk, now),
                now,
            )
        except ReplyRace as race:
            return render_conversation(
                runtime, principal, conversation_id, status=409, race=race, draft=draft
            )
        except (Conflict, InvalidInput, Forbidden) as refused:
            code = (
                409
                if isinstance(refused, Conflict)
                else 403
                if isinstance(refused, Forbidden)
                else 400
            )
            return render_conversation(
                runtime, principal, conversation_id, status=code, error=str(refused), draft=draft
            )
        if sends:
            kick_outbox(runtime, principal.workspace_id, conversation_id)
        if BACK.match(back):  # the customer page's forms return there
            return Redirect(path=f"{back}{anchor}", status_code=303)
        return Redirect(path=f"/inbox/c/{conversation_id}{anchor}", status_code=303)

    @post("/claim", sync_to_thread=True)
    def claim(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> Response[Any]:
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: claim(desk, principal, conversation_id, now),
        )

    @post("/assign", sync_to_thread=True)
    def assign(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        target = data.get("assignee", "")
        teammate_id = _int(target[1:]) if target.startswith("p") else None
        team_id = _int(target[1:]) if target.startswith("t") else _int(data.get("team"))

        def act(desk: Desk, now: datetime) -> None:
            assign(
                desk,
                principal,
                conversation_id,
                expected_owner_id=_int(data.get("expected_owner")),
                teammate_id=teammate_id,
                team_id=team_id,
                note=data.get("note"),
                now=now,
            )

        return self._act(runtime, principal, conversation_id, act)

    @post("/reply", sync_to_thread=True)
    def reply(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        body = data.get("body", "")

        def act(desk: Desk, now: datetime) -> None:
            reply_text(
                desk,
                principal,
                conversation_id,
                body,
                now=now,
                seen_message_id=_int(data.get("seen_message_id")),
                confirmed=data.get("confirmed") == "1",
            )

        return self._act(
            runtime, principal, conversation_id, act, anchor="#reply", draft=body, sends=True
        )

    @post("/rich", sync_to_thread=True)
    def rich(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Buttons, a list, a location, a contact card or a reaction from the reply box."""

        def act(desk: Desk, now: datetime) -> None:
            send_rich(
                desk,
                principal,
                conversation_id,
                rich_from_form(data),
                now=now,
                seen_message_id=_int(data.get("seen_message_id")),
                confirmed=data.get("confirmed") == "1",
            )

        return self._act(runtime, principal, conversation_id, act, anchor="#reply", sends=True)

    @post("/template", sync_to_thread=True)
    def template(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        name, _, language = data.get("template", "").partition(":")
        parameters = [
            data[key]
            for key in sorted(
                (k for k in data if k.startswith("param_") and k[6:].isdigit()),
                key=lambda k: int(k[6:]),
            )
        ]

        def act(desk: Desk, now: datetime) -> None:
            reply_template(
                desk,
                principal,
                conversation_id,
                name=name,
                language=language,
                parameters=parameters,
                now=now,
            )

        return self._act(runtime, principal, conversation_id, act, anchor="#reply", sends=True)

    @post("/scheduled/{action_id:int}/cancel", sync_to_thread=True)
    def cancel_scheduled(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        action_id: FromPath[int],
    ) -> Response[Any]:
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: cancel_scheduled(desk, principal, conversation_id, action_id, now),
            anchor="#scheduled",
        )

    @post("/stage", sync_to_thread=True)
    def stage(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        def act(desk: Desk, now: datetime) -> None:
            move_stage(
                desk,
                principal,
                conversation_id,
                stage=data.get("stage", ""),
                expected_stage=data.get("expected_stage") or None,
                now=now,
                object_id=_object_id(data.get("object_id")),
            )

        return self._act(runtime, principal, conversation_id, act)

    @post("/objects", sync_to_thread=True)
    def create_object(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        new = NewObject(
            kind=data.get("kind", ""),
            external_ref=data.get("external_ref"),
            amount=data.get("amount"),
            currency=data.get("currency"),
        )
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: create_for_conversation(desk, principal, conversation_id, new, now),
        )

    @post("/objects/{object_id:int}", sync_to_thread=True)
    def update_object(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Fill in an order's (or booking's) details; only what changed reaches the rules."""
        values = _typed_in(data)
        back = str(values.pop("back", "") or "")
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: update_object(
                desk, principal, conversation_id, object_id, values, now
            ),
            anchor=f"#object-{object_id}",
            back=back,
        )

    @post("/objects/{object_id:int}/lines", sync_to_thread=True)
    def object_lines(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Replace an order's lines (rows `line-N-description`, `-quantity`, `-unit_price`;
        an empty row is skipped); the amount becomes their sum."""
        lines = _lines_in(data)
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: set_line_items(
                desk, principal, conversation_id, object_id, lines, now
            ),
            anchor=f"#object-{object_id}",
            back=data.get("back", ""),
        )

    @post("/objects/{object_id:int}/links", sync_to_thread=True)
    def object_link(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Link the object to an existing one, by its reference or number."""
        other = data.get("object", "")
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: link_objects(desk, principal, conversation_id, object_id, other, now),
            anchor=f"#object-{object_id}",
            back=data.get("back", ""),
        )

    @post("/objects/{object_id:int}/links/{other_id:int}/remove", sync_to_thread=True)
    def object_unlink(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        object_id: FromPath[int],
        other_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: unlink_objects(
                desk, principal, conversation_id, object_id, other_id, now
            ),
            anchor=f"#object-{object_id}",
            back=data.get("back", ""),
        )

    @post("/escalate", sync_to_thread=True)
    def escalate(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Ask one teammate to decide, with the reason."""
        decider = _int(data.get("decider_id"))
        reason = data.get("reason", "")

        def act(desk: Desk, now: datetime) -> None:
            if decider is None:
                raise InvalidInput("choose who decides")
            escalations.escalate(desk, principal, conversation_id, decider, reason, now)

        return self._act(runtime, principal, conversation_id, act, anchor="#escalations")

    @post("/escalations/{escalation_id:int}/decision", sync_to_thread=True)
    def decide(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        escalation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Approve or decline an escalation, with a note."""
        decision = data.get("decision", "")
        note = data.get("note", "")
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: escalations.decide(
                desk, principal, conversation_id, escalation_id, decision, note, now
            ),
            anchor="#escalations",
        )

    @post("/details", sync_to_thread=True)
    def details(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Fill in the conversation's own details (workspace.yaml `fields.conversation`)."""
        values = _typed_in(data)
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: set_conversation_details(
                desk, principal, conversation_id, values, now
            ),
        )

    @post("/note", sync_to_thread=True)
    def note(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        body = data.get("body", "")
        told: list[str] = []

        def act(desk: Desk, now: datetime) -> None:
            added = add_note(desk, principal, conversation_id, body, now)
            told.extend(handle for handle, _ in added.not_notified)

        response = self._act(runtime, principal, conversation_id, act, anchor="#note")
        if told and isinstance(response, Redirect):
            query = urlencode({"unnotified": ",".join(told)})
            return Redirect(path=f"/inbox/c/{conversation_id}?{query}#note", status_code=303)
        return response

    @post("/status", sync_to_thread=True)
    def status(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        wanted = data.get("status", "")
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: set_status(desk, principal, conversation_id, wanted, now),
        )

    @post("/snooze", sync_to_thread=True)
    def snooze(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        def act(desk: Desk, now: datetime) -> None:
            zone = zone_of(workspace_of(desk.session, principal))
            until = parse_local_time(data.get("until", ""), zone)
            snooze(desk, principal, conversation_id, until, now)

        return self._act(runtime, principal, conversation_id, act)

    @post("/tags", sync_to_thread=True)
    def tag(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        name = data.get("tag", "")
        if data.get("remove") == "1":
            return self._act(
                runtime,
                principal,
                conversation_id,
                lambda desk, now: remove_tag(desk, principal, conversation_id, name, now),
            )
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: add_tag(desk, principal, conversation_id, name, now),
        )

    @post("/tasks", sync_to_thread=True)
    def task(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        def act(desk: Desk, now: datetime) -> None:
            zone = zone_of(workspace_of(desk.session, principal))
            due = data.get("due", "").strip()
            create_task(
                desk,
                principal,
                conversation_id,
                title=data.get("title", ""),
                due_at=parse_local_time(due, zone) if due else None,
                assignee_id=_int(data.get("assignee")),
                now=now,
            )

        return self._act(runtime, principal, conversation_id, act)

    @post("/tasks/{task_id:int}/done", sync_to_thread=True)
    def task_done(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        task_id: FromPath[int],
    ) -> Response[Any]:
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: complete_task(desk.session, principal, task_id, now),
        )

    @post("/tasks/{task_id:int}/send", sync_to_thread=True)
    def send_held(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        task_id: FromPath[int],
    ) -> Response[Any]:
        """Send the message a rule held, once staff filled in what was empty."""
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: send_held(desk, principal, conversation_id, task_id, now),
            sends=True,
        )

    @post("/messages/{message_id:int}/retry", sync_to_thread=True)
    def retry(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        message_id: FromPath[int],
    ) -> Response[Any]:
        return self._act(
            runtime,
            principal,
            conversation_id,
            lambda desk, now: retry_message(desk.session, principal, message_id, now),
            sends=True,
        )


def _object_id(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _typed_in(form: dict[str, str]) -> dict[str, object]:
    """What a person typed into a details form, without the form's CSRF token."""
    return {name: value for name, value in form.items() if name != "_csrf_token"}


BACK = re.compile(r"^/inbox/contacts/\d{1,12}$")
LINE = re.compile(r"^line-(\d{1,3})-(description|quantity|unit_price)$")


def _lines_in(form: dict[str, str]) -> list[LineInput]:
    """The rows of a line-items form, in row order."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        found = LINE.match(name)
        if found:
            rows.setdefault(int(found[1]), {})[found[2]] = value
    return [
        LineInput(row.get("description", ""), row.get("quantity", "1"), row.get("unit_price", "0"))
        for _, row in sorted(rows.items())
    ]
