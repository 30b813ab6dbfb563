"""`CloudApiSender`: the MessageSender port over the WhatsApp Cloud API, with httpx."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import httpx

from connectors.whatsapp.bodies import request_body
from connectors.whatsapp.errors import NETWORK_MEANING, TIMEOUT_MEANING, classify
from engine.core.messaging import (
    OutboundMessage,
    SendAccepted,
    SendFailure,
    SendOutcomeUnknown,
    SendResult,
)

GRAPH_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"


class CloudApiSender:
    """Sends to `{base_url}/{api_version}/{phone_number_id}/messages`.

    Follows no redirects and times out. Errors come back as results, never raised:
    a refused send is a `SendFailure` classified retryable or permanent; a request
    that may have reached WhatsApp without an answer is a `SendOutcomeUnknown`.
    """

    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        base_url: str = GRAPH_URL,
        api_version: str = DEFAULT_VERSION,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        body = request_body(message, idempotency_key)
        try:
            response = self._client.post(self.url, json=body)
        except (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
        ) as error:
            # The connection never opened: nothing reached WhatsApp, a retry is safe.
            return SendFailure(True, "network", NETWORK_MEANING, detail=repr(error))
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            # The request left; WhatsApp may have taken it. Resending could double it.
            return SendOutcomeUnknown("timeout", f"{TIMEOUT_MEANING} ({error!r})")
        except httpx.HTTPError as error:
            # Anything else httpx reports happened after we began sending: do not guess.
            return SendOutcomeUnknown("transport", f"{TIMEOUT_MEANING} ({error!r})")
        return interpret_response(response.status_code, response.content, response.headers)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CloudApiSender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def interpret_response(
    status: int, content: bytes, headers: httpx.Headers | dict[str, str] | None = None
) -> SendResult:
    """A send call's HTTP answer → accepted (with the wamid), refused, or unknown."""
    document = _json(content)
    if 200 <= status < 300:
        return _accepted(document)
    error = _object(document.get("error"))
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    verdict = classify(code, status)
    data = _object(error.get("error_data"))
    detail = str(
        data.get("details") or error.get("message") or content[:500].decode(errors="replace")
    )
    retryable = verdict.retryable
    if code is None and error.get("is_transient") is True:
        retryable = True
    if 300 <= status < 400:
        detail = f"unexpected redirect to {(headers or {}).get('location', '?')}"
    return SendFailure(
        retryable=retryable,
        code=verdict.code,
        meaning=verdict.meaning,
        detail=detail,
        http_status=status,
        retry_after_seconds=_retry_after(headers),
        raw=document,
    )


def _accepted(document: dict[str, Any]) -> SendResult:
    if document.get("success") is True:  # mark-as-read answers without a message id
        return SendAccepted(None, raw=document)
    messages = document.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    if not isinstance(wamid, str) or not wamid:
        return SendOutcomeUnknown(
            "no_message_id", f"WhatsApp answered 2xx without a message id: {document!r:.300}"
        )
    contacts = document.get("contacts")
    contact = contacts[0] if isinstance(contacts, list) and contacts else {}
    recipient = contact.get("wa_id") if isinstance(contact, dict) else None
    status = first.get("message_status") if isinstance(first, dict) else None
    return SendAccepted(
        wamid,
        recipient_id=recipient if isinstance(recipient, str) else None,
        provider_status=status if isinstance(status, str) else None,
        raw=document,
    )


def _json(content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _retry_after(headers: httpx.Headers | dict[str, str] | None) -> float | None:
    value = (headers or {}).get("retry-after") or (headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
