"""Posting signed webhooks to the CRM, the way Meta does: retried until a 200.

Bodies are serialised with non-ASCII escaped as `\\uXXXX` (Meta's form), and the
`X-Hub-Signature-256` header is computed over exactly the bytes sent.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.faults import Faults

LOG_SIZE = 20_000  # the newest deliveries kept for inspection; a long demo stays small


@dataclass
class Delivery:
    """One webhook body and what happened to it (every copy counts as an attempt)."""

    body: dict[str, Any]
    attempts: int = 0
    delivered: int = 0  # copies answered 2xx (more than 1 with the duplicates fault)
    last_status: int | None = None
    last_error: str | None = None


@dataclass
class WebhookDelivery:
    url: str | None
    app_secret: str
    faults: Faults
    max_attempts: int = 8
    retry_base: float = 0.5  # seconds; doubles per attempt, like Meta's backoff
    timeout: float = 10.0
    log: deque[Delivery] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    _client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, body: dict[str, Any]) -> Delivery:
        """Post `body`, in as many concurrent copies as the duplicates fault says."""
        record = Delivery(body)
        self.log.append(record)
        raw = json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        if self.faults.delay_ms:
            await asyncio.sleep(self.faults.delay_ms / 1000)
        # Duplicates go out at the same moment: the receiver's dedup must hold under a race.
        copies = max(self.faults.duplicates, 1)
        await asyncio.gather(*(self._post_until_accepted(record, raw) for _ in range(copies)))
        return record

    async def _post_until_accepted(self, record: Delivery, raw: bytes) -> None:
        if self.url is None:
            record.last_error = "no webhook URL configured"
            return
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(raw, self.app_secret)}
        delay = self.retry_base
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            record.attempts += 1
            if self._client is None:
                await self.start()
            assert self._client is not None
            try:
                response = await self._client.post(self.url, content=raw, headers=headers)
            except httpx.HTTPError as error:
                record.last_error = repr(error)
                continue
            record.last_status = response.status_code
            if 200 <= response.status_code < 300:
                record.delivered += 1
                record.last_error = None
                return
            record.last_error = f"HTTP {response.status_code}"
