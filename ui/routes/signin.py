"""Sign in, sign out, change your password."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from engine.auth import end_session, sign_in
from engine.auth.passwords import WeakPassword
from engine.auth.passwords_admin import WrongPassword, change_own_password
from engine.auth.sessions import SESSION_LIFETIME
from engine.db import unit_of_work, workspace_session
from engine.inbox.availability import set_away
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal
from ui.security.cookies import SESSION_COOKIE, cookie_secure

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may be a redirect target."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/inbox"


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class SignInController(Controller):
    exception_handlers = PAGE_ERRORS

    @get("/login", sync_to_thread=False)
    def form(self, workspace: FromQuery[str] = "", next: FromQuery[str] = "/inbox") -> Template:
        return Template(
            template_name="login.html",
            context={"workspace_slug": workspace, "next": _safe_next(next), "error": None},
        )

    @post("/login", sync_to_thread=True)
    def submit(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency, data: Form
    ) -> Response[Any]:
        result = sign_in(
            runtime.db,
            workspace_slug=data.get("workspace", ""),
            login=data.get("login", ""),
            password=data.get("password", ""),
            client=_client(request),
            now=runtime.clock.now(),
            user_agent=request.headers.get("user-agent"),
            previous_cookie=request.cookies.get(SESSION_COOKIE),
        )
        if not result.ok:
            headers = {}
            if result.retry_after is not None:
                headers["Retry-After"] = str(int(result.retry_after.total_seconds()))
            return Template(
                template_name="login.html",
                context={
                    "workspace_slug": data.get("workspace", ""),
                    "login": data.get("login", ""),
                    "next": _safe_next(data.get("next")),
                    "error": result.error,
                },
                status_code=429 if result.retry_after else 401,
                headers=headers,
            )
        return Redirect(
            path=_safe_next(data.get("next")),
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=result.cookie,
                    httponly=True,
                    secure=cookie_secure(request, runtime.settings),
                    samesite="lax",
                    max_age=int(SESSION_LIFETIME.total_seconds()),
                    path="/",
                )
            ],
            status_code=303,
        )

    @post("/logout", sync_to_thread=True)
    def logout(self, request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Redirect:
        end_session(
            runtime.db, request.cookies.get(SESSION_COOKIE), runtime.clock.now(), "signed out"
        )
        response = Redirect(path="/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


class AccountController(Controller):
    path = "/account"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def account(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        return self._page(runtime, principal, message=None, error=None, status=200)

    @post("/availability", sync_to_thread=True)
    def set_availability(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Redirect:
        """The header's toggle: away (routing passes you over) or available again."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            set_away(session, principal, data.get("away") == "1", runtime.clock.now())
        return Redirect(path=_safe_next(data.get("next")), status_code=303)

    @post("/password", sync_to_thread=True)
    def change_password(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Template:
        if data.get("new_password") != data.get("repeat_password"):
            return self._page(runtime, principal, None, "The two new passwords differ.", 400)
        try:
            with unit_of_work(runtime.db, principal.workspace_id) as session:
                ended = change_own_password(
                    session,
                    principal,
                    data.get("current_password", ""),
                    data.get("new_password", ""),
                    runtime.clock.now(),
                )
        except (WrongPassword, WeakPassword) as refused:
            return self._page(runtime, principal, None, f"Not changed: {refused}.", 400)
        message = f"Password changed. {ended} other session(s) signed out."
        return self._page(runtime, principal, message, None, 200)

    def _page(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        message: str | None,
        error: str | None,
        status: int,
    ) -> Template:
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, runtime.clock.now()).as_dict()
        context.update(message=message, error=error)
        return Template(template_name="account.html", context=context, status_code=status)
