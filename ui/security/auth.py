"""Who is asking, for pages (session cookie) and for the API (Bearer token).

Controllers declare these as dependencies; a page without a live session is
redirected to sign in, an API call without a valid token gets a JSON 401.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from engine.auth import Principal, authenticate_session, authenticate_token
from ui.dependencies import RuntimeDependency
from ui.security.cookies import SESSION_COOKIE

PrincipalDependency = NamedDependency[Principal]
"""Who is asking: a signed-in teammate (pages) or an API token (the JSON API)."""


class NotSignedIn(Exception):
    """A page needs a signed-in teammate; the handler sends the browser to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to continue")
        self.next_path = next_path


def page_principal(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Principal:
    principal = authenticate_session(
        runtime.db, request.cookies.get(SESSION_COOKIE), runtime.clock.now()
    )
    if principal is None:
        raise NotSignedIn(request.url.path)
    return principal


def api_principal(request: Request[Any, Any, Any], runtime: RuntimeDependency) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "send an API token as 'Authorization: Bearer <token>' (kazi token create)"
        )
    principal = authenticate_token(runtime.db, token.strip(), runtime.clock.now())
    if principal is None:
        raise NotAuthorizedException("this API token is unknown or revoked")
    return principal
