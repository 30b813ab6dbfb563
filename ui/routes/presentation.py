"""What pages share: time shown in the workspace's zone, the signed-in header, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.orm import Session

from engine.auth import Forbidden, Principal
from engine.core.step.view import money
from engine.inbox.availability import my_availability
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.notifications import unread_count
from engine.models import Workspace
from ui.security.auth import NotSignedIn


@dataclass(frozen=True)
class Formatter:
    """Times as a person in the workspace reads them."""

    now: datetime
    zone: ZoneInfo

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.zone) if moment else None

    def time(self, moment: datetime | None) -> str:
        local = self.local(moment)
        if local is None:
            return ""
        today = self.now.astimezone(self.zone).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")

    def iso(self, moment: datetime | None) -> str:
        return moment.isoformat() if moment else ""

    def local_input(self, moment: datetime | None) -> str:
        """For <input type=datetime-local>."""
        local = self.local(moment)
        return local.strftime("%Y-%m-%dT%H:%M") if local else ""

    def ago(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return self.span(int((self.now - moment).total_seconds()))

    @staticmethod
    def money(amount: Decimal | None) -> str:
        """`1,234.50`; whole amounts without decimals."""
        return "" if amount is None else money(Decimal(amount))

    @staticmethod
    def quantity(value: Decimal) -> str:
        """`2`, `1.5`: a quantity without trailing zeros."""
        value = Decimal(value)
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")

    @staticmethod
    def span(seconds: int) -> str:
        seconds = max(0, seconds)
        if seconds < 60:
            return f"{seconds} s"
        if seconds < 3600:
            return f"{seconds // 60} min"
        if seconds < 86400:
            return f"{seconds // 3600} h {seconds % 3600 // 60} min"
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


@dataclass(frozen=True)
class PageContext:
    me: Principal
    workspace: Workspace
    fmt: Formatter
    unread: int  # the teammate's unread notifications, for the header
    away: bool = False  # the teammate set themselves away (the header's toggle)

    def as_dict(self) -> dict[str, Any]:
        return {
            "me": self.me,
            "workspace": self.workspace,
            "fmt": self.fmt,
            "unread": self.unread,
            "away": self.away,
        }


def workspace_of(session: Session, principal: Principal) -> Workspace:
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise NotFound("this workspace no longer exists")
    return workspace


def zone_of(workspace: Workspace) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def page_context(session: Session, principal: Principal, now: datetime) -> PageContext:
    """What every page's header needs; actions that only need the workspace or its
    zone call workspace_of / zone_of and skip the notification count."""
    workspace = workspace_of(session, principal)
    zone = zone_of(workspace)
    return PageContext(
        me=principal,
        workspace=workspace,
        fmt=Formatter(now=now, zone=zone),
        unread=unread_count(session, principal),
        away=_away(session, principal),
    )


def _away(session: Session, principal: Principal) -> bool:
    mine = my_availability(session, principal)
    return mine is not None and mine.away


def parse_local_time(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local form value read in the workspace's zone."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=zone)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time") from None


# --- errors on pages ---------------------------------------------------------------------


def _error_page(status: int, title: str, message: str) -> Template:
    return Template(
        template_name="error.html",
        context={"title": title, "message": message},
        status_code=status,
    )


def to_sign_in(request: Request[Any, Any, Any], error: NotSignedIn) -> Response[Any]:
    if request.headers.get("hx-request"):
        # htmx would swap the sign-in page into a fragment; send the whole window there.
        return Response(content="", status_code=200, headers={"HX-Redirect": "/login"})
    return Redirect(path="/login", query_params={"next": error.next_path})


def not_found(request: Request[Any, Any, Any], error: NotFound) -> Template:
    return _error_page(HTTP_404_NOT_FOUND, "Not found", str(error))


def forbidden(request: Request[Any, Any, Any], error: Forbidden) -> Template:
    return _error_page(HTTP_403_FORBIDDEN, "Not allowed", str(error))


def conflict(request: Request[Any, Any, Any], error: Conflict) -> Template:
    return _error_page(HTTP_409_CONFLICT, "Someone else was first", str(error))


def invalid(request: Request[Any, Any, Any], error: InvalidInput) -> Template:
    return _error_page(HTTP_400_BAD_REQUEST, "Please check", str(error))


PAGE_ERRORS: ExceptionHandlersMap = {
    NotSignedIn: to_sign_in,
    NotFound: not_found,
    Forbidden: forbidden,
    Conflict: conflict,
    InvalidInput: invalid,
}


def parse_day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-03-31") from None
