"""The audit log page for managers: who did what to which record and when; CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import Template

from engine.auth.policy import Action, require
from engine.db import workspace_session
from engine.inbox.lookup import directory
from engine.reports.audit_log import (
    HEADERS,
    PAGE,
    AuditEntry,
    AuditFilters,
    audit_choices,
    audit_entries,
)
from ui.charts import as_csv
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context, parse_day, workspace_of, zone_of
from ui.security.auth import PrincipalDependency, page_principal

EXPORT_LIMIT = 50_000


class AuditController(Controller):
    path = "/audit"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    def _entries(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        filters: AuditFilters,
        limit: int,
    ) -> tuple[dict[str, Any], list[AuditEntry]]:
        require(principal, Action.VIEW_REPORTS)
        now: datetime = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            zone = zone_of(workspace_of(session, principal))
            entries = audit_entries(session, filters, zone, limit)
            actions, names = audit_choices(session)
            context = page_context(session, principal, now).as_dict()
            teammates, _ = directory(session)
        context.update(actions=actions, actor_names=names, teammates=teammates)
        return context, entries

    @staticmethod
    def _filters(
        teammate: int | None,
        actor: str | None,
        action: str | None,
        start: str | None,
        end: str | None,
        before: int | None,
    ) -> AuditFilters:
        return AuditFilters(
            teammate_id=teammate,
            actor_name=actor or None,
            action=action or None,
            start=parse_day(start, "start"),
            end=parse_day(end, "end"),
            before_id=before,
        )

    @get(sync_to_thread=True)
    def page(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate: FromQuery[int | None] = None,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
        end: FromQuery[str | None] = None,
        before: FromQuery[int | None] = None,
    ) -> Template:
        filters = self._filters(teammate, actor, action, start, end, before)
        context, entries = self._entries(runtime, principal, filters, PAGE)
        context.update(filters=filters, entries=entries, more=len(entries) == PAGE)
        return Template(template_name="audit.html", context=context)

    @get("/export.csv", sync_to_thread=True)
    def export(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate: FromQuery[int | None] = None,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
        end: FromQuery[str | None] = None,
    ) -> Response[str]:
        filters = self._filters(teammate, actor, action, start, end, None)
        _, entries = self._entries(runtime, principal, filters, EXPORT_LIMIT)
        return Response(
            as_csv(HEADERS, [e.row() for e in entries]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
        )
