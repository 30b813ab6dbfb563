"""The inbox: queues with counts, filters and search."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from engine.db import workspace_session
from engine.inbox.lookup import directory
from engine.inbox.queues import (
    Queue,
    QueueFilters,
    count_label,
    list_queue,
    parse_queue,
    queue_counts,
    tags_in_use,
)
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class InboxController(Controller):
    path = "/inbox"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def queue(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        queue: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        stage: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        now = runtime.clock.now()
        chosen = parse_queue(queue)
        filters = QueueFilters(
            stage=stage or None,
            tag=tag or None,
            owner_id=_int(owner),
            unowned_only=owner == "none",
            search=(q or "").strip()[:200] or None,
        )
        with workspace_session(runtime.db, principal.workspace_id) as session:
            header = page_context(session, principal, now)
            context = header.as_dict()
            listing = list_queue(session, principal, chosen, now, filters, page)
            counts = queue_counts(session, principal, now)
            teammates, _teams = directory(session)
            tags = tags_in_use(session)
            slug = header.workspace.slug
        # The stages to filter by are the pipelines' own, from the config in force.
        config = runtime.configs.config(slug)
        stages = sorted(
            {stage for pipeline in config.pipelines for stage in pipeline.stage_names()}
            if config
            else set()
        )
        wanted = {"queue": chosen.value, "q": q, "stage": stage, "tag": tag, "owner": owner}
        if page > 1:
            wanted["page"] = str(page)
        context.update(
            refresh_url="/inbox?" + urlencode({k: v for k, v in wanted.items() if v}),
            queues=list(Queue),
            current=chosen,
            counts=counts,
            count_labels={queue: count_label(queue, n) for queue, n in counts.items()},
            listing=listing,
            filters=filters,
            owner_filter=owner or "",
            teammates=teammates,
            stages=stages,
            tags=tags,
        )
        return Template(template_name="inbox.html", context=context)

    @get("/next", sync_to_thread=True)
    def next_conversation(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> Redirect:
        """The keyboard's "next": the longest-waiting conversation in my queue, else unassigned."""
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            for queue in (Queue.MINE, Queue.UNASSIGNED):
                rows = list_queue(session, principal, queue, now).rows
                if rows:
                    return Redirect(path=f"/inbox/c/{rows[0].conversation_id}")
        return Redirect(path="/inbox?queue=mine")
