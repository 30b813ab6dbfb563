"""Broadcasts for managers: the list, a new broadcast (segment, template, variables,
preview with the recipient count, now or at a time), its report; and the JSON API.

Thin: the engine.broadcasts services authorise and audit. Creating one only writes the
broadcast; a worker job queues its sends in chunks (asked for here, else the sweeper)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.orm import Session

from engine.auth import Principal
from engine.auth.policy import Action, require
from engine.automation.runner import rules_in_force
from engine.broadcasts import (
    Draft,
    broadcast_report,
    cancel_broadcast,
    create_broadcast,
    list_broadcasts,
    preview,
    segment_choices,
)
from engine.broadcasts.variables import positions, suggested_sources
from engine.composition import Runtime
from engine.core.config import WorkspaceConfig
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import InvalidInput
from engine.jobs.names import QUEUE_BROADCAST
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.routes.presentation import (
    PAGE_ERRORS,
    page_context,
    parse_local_time,
    workspace_of,
    zone_of,
)
from ui.security.auth import PrincipalDependency, api_principal, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _config(runtime: Runtime, session: Session, workspace_id: int) -> WorkspaceConfig:
    rules = rules_in_force(session, runtime.configs, workspace_id)
    if rules is None:
        raise InvalidInput("this workspace has no valid config in force; fix it in the builder")
    return rules.config


def _reply_window(config: WorkspaceConfig) -> timedelta:
    return timedelta(minutes=config.broadcasts.reply_window_minutes)


def _kick(runtime: Runtime, broadcast_id: int, send_at: datetime) -> None:
    """Ask a worker to start now; if the queue is down (or it is for later) the sweeper will."""
    if send_at > runtime.clock.now():
        return
    try:
        runtime.queue.enqueue(QUEUE_BROADCAST, broadcast_id=broadcast_id)
    except Exception:  # the sweeper hands it out within seconds
        return


def _template_key(name: str, language: str) -> str:
    return f"{name}|{language}"


class BroadcastsController(Controller):
    path = "/broadcasts"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def index(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            context["broadcasts"] = list_broadcasts(session, principal)
        return Template(
            template_name="broadcasts.html", context=context, headers={"Cache-Control": "no-store"}
        )

    def _form(
        self,
        runtime: Runtime,
        principal: Principal,
        values: dict[str, str],
        *,
        error: str | None = None,
        shown: Any = None,
    ) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            require(principal, Action.SEND_BROADCASTS)
            context = page_context(session, principal, now).as_dict()
            config = _config(runtime, session, principal.workspace_id)
            segments = segment_choices(session, config)
        templates = [(_template_key(t.name, t.language), t) for t in config.templates if t.body]
        chosen_key = values.get("template") or next(
            (k for k, t in templates if t.category == "marketing"),
            templates[0][0] if templates else "",
        )
        chosen = next((t for k, t in templates if k == chosen_key), None)
        variables: list[tuple[int, str]] = []
        if chosen is not None:
            same = values.get("shown_template") == chosen_key
            suggested = suggested_sources(chosen)
            variables = [
                (p, values.get(f"var{p}", "") if same else suggested[i])
                for i, p in enumerate(positions(chosen))
            ]
        fields = [f.name for f in config.fields_of("contact")]
        context.update(
            values=values,
            error=error,
            segments=segments,
            templates=templates,
            chosen_key=chosen_key,
            chosen=chosen,
            variables=variables,
            sources=["contact.first_name", "contact.name", *(f"contact.{f}" for f in fields)],
            preview=shown,
            now_local=context["fmt"].local_input(now),
        )
        return Template(
            template_name="broadcast_new.html",
            context=context,
            status_code=400 if error else 200,
            headers={"Cache-Control": "no-store"},
        )

    @get("/new", sync_to_thread=True)
    def new(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        return self._form(runtime, principal, {})

    @post("/new", sync_to_thread=True)
    def submit(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Template | Redirect:
        """`action=preview` shows who it reaches; `action=send` creates it."""
        now = runtime.clock.now()
        name, _, language = data.get("template", "").partition("|")
        if data.get("shown_template") != data.get("template"):
            # Another template was picked: show its variables before anything else.
            return self._form(runtime, principal, data)
        count = sum(1 for key in data if key.startswith("var") and key[3:].isdigit())
        try:
            with workspace_session(runtime.db, principal.workspace_id) as session:
                config = _config(runtime, session, principal.workspace_id)
                send_at = None
                if data.get("when") == "later":
                    if not data.get("send_at"):
                        raise InvalidInput("send at: pick a date and time, or send now")
                    zone = zone_of(workspace_of(session, principal))
                    send_at = parse_local_time(data["send_at"], zone)
                draft = Draft(
                    name=data.get("name", ""),
                    template=name,
                    language=language,
                    variables=tuple(data.get(f"var{i}", "") for i in range(1, count + 1)),
                    segment=data.get("segment", ""),
                    send_at=send_at,
                )
                if data.get("action") != "send":
                    shown = preview(session, principal, config, draft, now)
            if data.get("action") != "send":
                return self._form(runtime, principal, data, shown=shown)
            with unit_of_work(runtime.db, principal.workspace_id) as session:
                broadcast = create_broadcast(session, principal, config, draft, now)
                broadcast_id, due = broadcast.id, broadcast.send_at
        except InvalidInput as wrong:
            return self._form(runtime, principal, data, error=str(wrong))
        _kick(runtime, broadcast_id, due)
        return Redirect(path=f"/broadcasts/{broadcast_id}", status_code=303)

    @get("/{broadcast_id:int}", sync_to_thread=True)
    def report(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        broadcast_id: FromPath[int],
    ) -> Template:
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            window = _reply_window(rules.config) if rules is not None else timedelta(days=3)
            context["report"] = broadcast_report(
                session, principal, broadcast_id, window, now, audit=True
            )
            context["window"] = window
        return Template(
            template_name="broadcast_report.html",
            context=context,
            headers={"Cache-Control": "no-store"},
        )

    @post("/{broadcast_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        broadcast_id: FromPath[int],
    ) -> Redirect:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            cancel_broadcast(session, principal, broadcast_id, runtime.clock.now())
        return Redirect(path=f"/broadcasts/{broadcast_id}", status_code=303)


# --- the JSON API ------------------------------------------------------------------------


@dataclass
class BroadcastCreate:
    name: str
    template: str
    language: str
    segment: str  # "saved:<id>" or "config:<name>"
    variables: list[str] = field(default_factory=list)
    send_at: datetime | None = None  # absent: now
    business_number: str | None = None
    check: bool = False  # only the preview: who it reaches and who is skipped


@dataclass
class BroadcastPreview:
    segment: str
    in_segment: int
    recipients: int
    skipped: dict[str, int]
    samples: list[str]


@dataclass
class BroadcastCreated:
    id: int
    send_at: datetime


class BroadcastsApiController(Controller):
    path = "/api/v1/broadcasts"
    tags = ["broadcasts"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get(sync_to_thread=True)
    def index(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> list[dict[str, Any]]:
        """Broadcasts, newest first (managers)."""
        with workspace_session(runtime.db, principal.workspace_id) as session:
            return [
                {
                    "id": b.id,
                    "name": b.name,
                    "state": b.state,
                    "template": b.template,
                    "language": b.language,
                    "segment": b.segment_label,
                    "send_at": b.send_at.isoformat(),
                }
                for b in list_broadcasts(session, principal)
            ]

    @get("/segments", sync_to_thread=True)
    def segments(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> list[dict[str, str]]:
        """Segments a broadcast may go to: saved ones and those in broadcasts.yaml."""
        require(principal, Action.SEND_BROADCASTS)
        with workspace_session(runtime.db, principal.workspace_id) as session:
            config = _config(runtime, session, principal.workspace_id)
            return [
                {"key": s.key, "label": s.label, "description": s.description}
                for s in segment_choices(session, config)
            ]

    @post(sync_to_thread=True, status_code=HTTP_201_CREATED)
    def create(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        data: JSONBody[BroadcastCreate],
    ) -> BroadcastCreated | BroadcastPreview:
        """A broadcast to the segment's opted-in contacts; with `check`, only the preview."""
        now = runtime.clock.now()
        draft = Draft(
            name=data.name,
            template=data.template,
            language=data.language,
            variables=tuple(data.variables),
            segment=data.segment,
            send_at=data.send_at,
            business_number=data.business_number,
        )
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            config = _config(runtime, session, principal.workspace_id)
            if data.check:
                shown = preview(session, principal, config, draft, now)
                return BroadcastPreview(
                    shown.segment_label,
                    shown.in_segment,
                    shown.recipients,
                    shown.skipped,
                    shown.samples,
                )
            broadcast = create_broadcast(session, principal, config, draft, now)
            created = BroadcastCreated(broadcast.id, broadcast.send_at)
        _kick(runtime, created.id, created.send_at)
        return created

    @get("/{broadcast_id:int}", sync_to_thread=True)
    def report(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        broadcast_id: FromPath[int],
    ) -> dict[str, object]:
        """The report: sent, delivered, read, replied, failed by reason, opted out, skipped."""
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            config = _config(runtime, session, principal.workspace_id)
            report = broadcast_report(
                session, principal, broadcast_id, _reply_window(config), now, audit=True
            )
            return report.as_json()

    @post("/{broadcast_id:int}/cancel", sync_to_thread=True, status_code=HTTP_200_OK)
    def cancel(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        broadcast_id: FromPath[int],
    ) -> dict[str, str]:
        """Stop queueing more of it; messages already queued still go."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            broadcast = cancel_broadcast(session, principal, broadcast_id, runtime.clock.now())
            return {"state": broadcast.state}
