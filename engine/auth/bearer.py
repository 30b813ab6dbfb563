"""Bearer secrets for cookies and API tokens: random, stored only as a hash.

A secret names its workspace in clear ("<workspace id>.<random>"), so it is
looked up inside that workspace's session and never by a cross-workspace query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedSecret:
    workspace_id: int
    token_hash: str


def new_secret(workspace_id: int, prefix: str = "") -> tuple[str, str]:
    """A fresh secret for `workspace_id` and the hash to store: (secret, hash)."""
    secret = f"{prefix}{workspace_id}.{secrets.token_urlsafe(32)}"
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_secret(secret: str | None, prefix: str = "") -> ParsedSecret | None:
    """The workspace a presented secret claims and its hash; None when malformed."""
    if not secret or len(secret) > 200 or not secret.startswith(prefix):
        return None
    workspace, dot, rest = secret[len(prefix) :].partition(".")
    if not dot or not workspace.isdigit() or len(rest) < 20:
        return None
    return ParsedSecret(workspace_id=int(workspace), token_hash=digest(secret))
