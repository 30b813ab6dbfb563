"""Who is available and who is away, in the JSON API: routing passes over who is away.

A token acts for its workspace: reading is open to any token, setting someone away
needs a manager's or admin's token (a teammate sets themselves with the header toggle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import Controller, get, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from engine.db import unit_of_work, workspace_session
from engine.inbox.availability import Availability, set_away, team_availability
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.security.auth import PrincipalDependency, api_principal


@dataclass
class AvailabilityUpdate:
    away: bool


@dataclass
class AvailabilityRead:
    handle: str
    name: str
    away: bool
    away_since: datetime | None

    @classmethod
    def of(cls, item: Availability) -> AvailabilityRead:
        return cls(item.handle, item.name, item.away, item.since)


class AvailabilityApiController(Controller):
    path = "/api/v1/availability"
    tags = ["teammates"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get(sync_to_thread=True)
    def list_availability(
        self, runtime: RuntimeDependency, principal: PrincipalDependency
    ) -> list[AvailabilityRead]:
        """Every active teammate and whether they are away."""
        with workspace_session(runtime.db, principal.workspace_id) as session:
            return [AvailabilityRead.of(a) for a in team_availability(session)]

    @put("/{handle:str}", sync_to_thread=True)
    def set_availability(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        handle: FromPath[str],
        data: JSONBody[AvailabilityUpdate],
    ) -> AvailabilityRead:
        """Set a teammate away (routing passes them over) or available again (managers)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            done = set_away(session, principal, data.away, runtime.clock.now(), handle=handle)
        return AvailabilityRead.of(done)
