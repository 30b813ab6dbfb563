"""Webhook authenticity: the `X-Hub-Signature-256` check and the GET handshake.

The signature is an HMAC-SHA256 of the exact raw body bytes, keyed with the app
secret. Re-serialising parsed JSON breaks it (Meta escapes non-ASCII as `\\uXXXX`),
so callers must hand over the bytes they received.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


class SignatureVerdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # present but does not match this body and secret
    MISSING = "missing"  # no header, or not the `sha256=` form
    NO_SECRET = "no_secret"  # we have no secret configured: refuse, never accept unsigned

    @property
    def accepted(self) -> bool:
        return self is SignatureVerdict.VALID


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for `body`: `sha256=<lowercase hex>`."""
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, app_secret: str | None) -> SignatureVerdict:
    """Check `header` against the raw `body`, in constant time. Only VALID may be processed."""
    if not app_secret:
        return SignatureVerdict.NO_SECRET
    if not header or not header.startswith(_PREFIX):
        return SignatureVerdict.MISSING
    expected = sign(body, app_secret)
    # compare_digest on bytes: a header with non-ASCII characters must not raise.
    given = header.strip().lower().encode("utf-8", errors="replace")
    if hmac.compare_digest(expected.encode("ascii"), given):
        return SignatureVerdict.VALID
    return SignatureVerdict.INVALID


@dataclass(frozen=True)
class HandshakeAnswer:
    status: int  # 200 with the challenge as plain text, or 403
    body: str

    @property
    def accepted(self) -> bool:
        return self.status == 200


def verification_handshake(params: Mapping[str, str], verify_token: str | None) -> HandshakeAnswer:
    """Answer Meta's `GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`.

    Accepts the underscore spelling (`hub_mode`) some proxies produce. No token
    configured refuses, like a missing signature secret.
    """

    def param(name: str) -> str:
        return params.get(f"hub.{name}") or params.get(f"hub_{name}") or ""

    token = param("verify_token")
    if (
        verify_token
        and param("mode") == "subscribe"
        and hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8"))
    ):
        return HandshakeAnswer(200, param("challenge"))
    return HandshakeAnswer(403, "forbidden")
