"""Cookie settings: HttpOnly, SameSite=Lax, and Secure unless served over plain-http localhost."""

from __future__ import annotations

from typing import Any

from litestar import Request

from engine.settings import Settings

SESSION_COOKIE = "kazi_session"
CSRF_COOKIE = "kazi_csrf"
CSRF_HEADER = "x-csrftoken"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def serves_plain_http_locally(settings: Settings) -> bool:
    return settings.host in LOCAL_HOSTS


def cookie_secure(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """Secure whenever the request came over HTTPS (directly or via a proxy saying so),
    and always when the server is not bound to localhost."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded.lower() == "https"
        or not serves_plain_http_locally(settings)
    )
