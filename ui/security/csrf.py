"""CSRF protection for every state change made from a browser.

Litestar's double-submit middleware: forms carry `_csrf_token`, htmx sends the
same token in the `X-CSRFToken` header (set once on <body> with hx-headers).
Webhooks (signed by the provider) and the JSON API (Bearer tokens, never
cookies) are not cookie-authenticated, so they are excluded.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from litestar.config.csrf import CSRFConfig

from engine.settings import Settings
from ui.security.cookies import CSRF_COOKIE, CSRF_HEADER, serves_plain_http_locally

EXCLUDED = ["^/webhooks/", "^/api/"]


def csrf_secret(settings: Settings) -> str:
    """KAZI_SECRET_KEY, or a random secret kept in the var directory so every server
    process on this machine signs tokens the same way."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.var_dir) / "csrf-secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a private file, then link it into place: link() refuses to replace, so when
    # two processes start together both end up reading the one that landed first.
    draft = path.with_name(f".csrf-secret.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=csrf_secret(settings),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=not serves_plain_http_locally(settings),
        cookie_httponly=True,  # pages carry the token; no script needs the cookie
        cookie_samesite="lax",
        exclude=EXCLUDED,
    )
