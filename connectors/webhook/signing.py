"""Signing what Kazi sends, so the receiver can tell it came from us and is fresh.

`Kazi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the scheme
Stripe made familiar: the timestamp inside the signed text stops replays of old
deliveries, and a receiver checks it with a few lines of any language.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Kazi-Signature"
IDEMPOTENCY_HEADER = "Kazi-Idempotency-Key"


def signature(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(body: bytes, header: str, secret: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and is no older than `tolerance` s."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(body, secret, timestamp)
    return hmac.compare_digest(expected, header)
