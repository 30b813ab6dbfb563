"""`FakeSender`: an in-memory MessageSender for tests, held to the same contract as the real one.

It builds the same request bodies, refuses what the shared `SendPolicy` refuses, and
turns scripted provider errors into results through the real client's response
interpreter, so a failure looks exactly as it would from WhatsApp.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from connectors.whatsapp.bodies import request_body
from connectors.whatsapp.client import interpret_response
from connectors.whatsapp.media import GONE_MEANING, TOO_BIG_MEANING
from connectors.whatsapp.policy import SendPolicy
from engine.core.clock import Clock, SystemClock
from engine.core.media import (
    FetchedMedia,
    MediaFailure,
    MediaFetch,
    MediaUpload,
    MediaUploaded,
    digest,
)
from engine.core.messaging import (
    MarkAsRead,
    OutboundMessage,
    SendAccepted,
    SendOutcomeUnknown,
    SendResult,
)


@dataclass(frozen=True)
class RecordedSend:
    message: OutboundMessage
    idempotency_key: str
    body: dict[str, Any]
    result: SendResult


def error_response(code: int, title: str, details: str = "") -> bytes:
    """A Graph API error body, the shape the send endpoint answers with."""
    error = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or title},
        "fbtrace_id": "Akazi-simulated",
    }
    return json.dumps({"error": error}).encode()


@dataclass(frozen=True)
class FakeMediaFile:
    data: bytes
    mime_type: str
    file_name: str | None = None


@dataclass
class FakeSender:
    policy: SendPolicy = field(default_factory=lambda: SendPolicy(enforce_window=False))
    clock: Clock = field(default_factory=SystemClock)
    sent: list[RecordedSend] = field(default_factory=list)
    _scripted: deque[SendResult] = field(default_factory=deque)
    _counter: int = 0
    # Files WhatsApp holds, by media id: customers' uploads (`put_media`) and ours.
    media: dict[str, FakeMediaFile] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)
    _scripted_media: deque[MediaFailure] = field(default_factory=deque)

    def fail_next(self, code: int, http_status: int = 400, times: int = 1, title: str = "") -> None:
        """The next `times` sends get this provider error, as the real client would read it."""
        body = error_response(code, title or f"error {code}")
        result = interpret_response(http_status, body, {})
        self._scripted.extend([result] * times)

    def time_out_next(self, times: int = 1) -> None:
        """The next `times` sends end without an answer (outcome unknown)."""
        self._scripted.extend([SendOutcomeUnknown("timeout", "scripted timeout")] * times)

    def put_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        """A customer's file WhatsApp holds under `media_id`, ready to download."""
        self.media[media_id] = FakeMediaFile(data, mime_type)

    def fail_next_media(self, failure: MediaFailure, times: int = 1) -> None:
        """The next `times` downloads or uploads end with `failure`."""
        self._scripted_media.extend([failure] * times)

    def fetch_media(self, media_id: str, *, max_bytes: int) -> MediaFetch:
        self.fetches.append(media_id)
        if self._scripted_media:
            return self._scripted_media.popleft()
        found = self.media.get(media_id)
        if found is None:
            return MediaFailure(False, "not_found", GONE_MEANING)
        if len(found.data) > max_bytes:
            return MediaFailure(False, "too_large", TOO_BIG_MEANING, f"{len(found.data)} bytes")
        return FetchedMedia(found.data, found.mime_type, digest(found.data))

    def upload_media(self, data: bytes, *, mime_type: str, file_name: str) -> MediaUpload:
        if self._scripted_media:
            return self._scripted_media.popleft()
        self._counter += 1
        media_id = f"{self._counter:015d}"
        self.media[media_id] = FakeMediaFile(data, mime_type, file_name)
        return MediaUploaded(media_id)

    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        body = request_body(message, idempotency_key)
        result = self._result(message, body)
        self.sent.append(RecordedSend(message, idempotency_key, body, result))
        return result

    def accepted(self) -> list[RecordedSend]:
        return [s for s in self.sent if isinstance(s.result, SendAccepted)]

    def _result(self, message: OutboundMessage, body: dict[str, Any]) -> SendResult:
        if self._scripted:
            return self._scripted.popleft()
        if isinstance(message, MarkAsRead):
            return SendAccepted(None, raw={"success": True})
        refusal = self.policy.check(body, self.clock.now())
        if refusal is not None:
            error = error_response(refusal.code, refusal.title, refusal.details)
            return interpret_response(400, error, {})
        self._counter += 1
        wamid = f"wamid.FAKE{self._counter:010d}"
        document = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": message.to, "wa_id": message.to}],
            "messages": [{"id": wamid}],
        }
        return interpret_response(200, json.dumps(document).encode(), {})
