"""One signed POST to a business's system: no redirects, a timeout, a verdict as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.webhook.addresses import RefusedAddress, Resolver, check_url, system_resolver
from connectors.webhook.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    retryable: bool
    detail: str
    status: int | None = None


def deliver(
    url: str,
    document: dict[str, Any],
    *,
    secret: str,
    idempotency_key: str,
    timestamp: int,
    timeout: float,
    allow_private: bool = False,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> Delivery:
    """POST `document` as JSON, signed. 2xx is delivered; 408, 429, 5xx and network
    trouble may be retried; other answers and refused addresses are final."""
    try:
        check_url(url, resolve, allow_private)
    except RefusedAddress as refused:
        return Delivery(False, False, str(refused))
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, secret, timestamp),
        IDEMPOTENCY_HEADER: idempotency_key,
    }
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Delivery(False, True, f"{type(error).__name__}: {error}")
    if 200 <= response.status_code < 300:
        return Delivery(True, False, "delivered", response.status_code)
    retryable = response.status_code in (408, 429) or response.status_code >= 500
    detail = f"HTTP {response.status_code}"
    if 300 <= response.status_code < 400:
        detail += " (redirects are not followed: configure the final URL)"
    return Delivery(False, retryable, detail, response.status_code)
