"""The reports page for managers: how fast, how well, where work stalls, who carries it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromQuery
from litestar.response import Template

from engine.auth.policy import Action, require
from engine.automation.runner import rules_in_force
from engine.db import workspace_session
from engine.inbox.errors import InvalidInput, NotFound
from engine.inbox.lookup import directory
from engine.reports.figures import SECTIONS, Filters, Report, report
from ui.charts import (
    as_csv,
    automations_chart,
    durations_chart,
    funnel_chart,
    heat,
    payments_chart,
    sla_chart,
    stage_time_chart,
)
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context, parse_day, workspace_of, zone_of
from ui.security.auth import PrincipalDependency, page_principal

DEFAULT_DAYS = 30
LONGEST = 366 * 2


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The period asked for: `start`..`end` inclusive, by default the last 30 days."""
    last = parse_day(end, "end") or today
    first = parse_day(start, "start") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("the period starts after it ends")
    if (last - first).days > LONGEST:
        raise InvalidInput("a report covers two years at most")
    return first, last


class ReportsController(Controller):
    path = "/reports"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    def _report(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        start: str | None,
        end: str | None,
        team: int | None,
        teammate: int | None,
        pipeline: str | None,
        number: str | None,
    ) -> tuple[dict[str, Any], Report]:
        require(principal, Action.VIEW_REPORTS)
        now: datetime = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            zone = zone_of(workspace_of(session, principal))
            today = now.astimezone(zone).date()
            first, last = period(start, end, today)
            filters = Filters(first, last, team, teammate, pipeline or None, number or None)
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            found = report(session, filters, rules.config if rules else None, zone)
            context = page_context(session, principal, now).as_dict()
            teammates, teams = directory(session)
        context.update(teammates=teammates, teams=teams)
        return context, found

    @get(sync_to_thread=True)
    def page(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        start: FromQuery[str | None] = None,
        end: FromQuery[str | None] = None,
        team: FromQuery[int | None] = None,
        teammate: FromQuery[int | None] = None,
        pipeline: FromQuery[str | None] = None,
        number: FromQuery[str | None] = None,
    ) -> Template:
        context, found = self._report(
            runtime, principal, start, end, team, teammate, pipeline, number
        )
        context.update(
            report=found,
            charts={
                "durations": durations_chart(found.durations),
                "sla": sla_chart(found.sla),
                "funnel": funnel_chart(found.funnel),
                "stage_time": stage_time_chart(found.funnel),
                "payments": payments_chart(found.payments),
                "automations": automations_chart(found.automations),
            },
            heat=heat(found.heatmap),
        )
        return Template(template_name="reports.html", context=context)

    @get("/{file:str}", sync_to_thread=True)
    def export(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        file: str,
        start: FromQuery[str | None] = None,
        end: FromQuery[str | None] = None,
        team: FromQuery[int | None] = None,
        teammate: FromQuery[int | None] = None,
        pipeline: FromQuery[str | None] = None,
        number: FromQuery[str | None] = None,
    ) -> Response[str]:
        section = file.removesuffix(".csv")
        if not file.endswith(".csv") or section not in SECTIONS:
            raise NotFound(f"no report export {file!r}")
        _, found = self._report(runtime, principal, start, end, team, teammate, pipeline, number)
        table = found.table(section)
        name = f"{section}-{found.filters.start}-{found.filters.end}.csv"
        return Response(
            as_csv(table.headers, table.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
