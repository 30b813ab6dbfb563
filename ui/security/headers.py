"""Security headers on every response, static files and errors included.

The CSP allows scripts, styles and connections from this origin only (htmx and
kazi.js are files; there is no inline script anywhere), no frames, no plugins.
"""

from __future__ import annotations

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook, so it also covers the router's own 404s and 405s and the
    CSRF middleware's refusals: add the headers unless a handler chose its own."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
    message["headers"] = headers
