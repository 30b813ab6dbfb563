"""CloudApiSender over a mock transport: URL, headers, answers, errors, timeouts."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from connectors.whatsapp.client import CloudApiSender, interpret_response
from engine.core.messaging import (
    MarkAsRead,
    OutboundText,
    SendAccepted,
    SendFailure,
    SendOutcomeUnknown,
)

TEXT = OutboundText("16505551234", "hello")


def sender(handler: Callable[[httpx.Request], httpx.Response]) -> CloudApiSender:
    return CloudApiSender(
        access_token="tok",
        phone_number_id="106540352242922",
        base_url="https://graph.example/",
        api_version="v23.0",
        transport=httpx.MockTransport(handler),
    )


def graph_error(status: int, code: int, details: str = "d", **extra: object) -> httpx.Response:
    error = {
        "message": f"(#{code}) t",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        **extra,
    }
    return httpx.Response(status, json={"error": error})


def test_posts_the_body_to_the_phone_number_with_the_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
                "messages": [{"id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTND"}],
            },
        )

    result = sender(handler).send(TEXT, idempotency_key="outbox-1")
    (request,) = seen
    assert str(request.url) == "https://graph.example/v23.0/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body["to"] == "16505551234" and body["biz_opaque_callback_data"] == "outbox-1"
    assert result == SendAccepted("wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTND", "16505551234")


def test_template_status_is_kept() -> None:
    answer = {"messages": [{"id": "wamid.t", "message_status": "held_for_quality_assessment"}]}
    result = sender(lambda r: httpx.Response(200, json=answer)).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendAccepted)
    assert result.provider_status == "held_for_quality_assessment"


def test_mark_as_read_success_has_no_message_id() -> None:
    result = sender(lambda r: httpx.Response(200, json={"success": True})).send(
        MarkAsRead("wamid.in"), idempotency_key="k"
    )
    assert result == SendAccepted(None)


def test_a_2xx_without_a_message_id_is_an_unknown_outcome() -> None:
    result = sender(lambda r: httpx.Response(200, text="<html>")).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendOutcomeUnknown)


def test_window_error_is_permanent_with_the_template_advice() -> None:
    result = sender(lambda r: graph_error(400, 131047, "24 hours passed")).send(
        TEXT, idempotency_key="k"
    )
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code, result.http_status) == (False, "131047", 400)
    assert "send a template" in result.meaning
    assert result.detail == "24 hours passed"


def test_rate_limit_is_retryable_and_keeps_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = graph_error(429, 130429)
        response.headers["Retry-After"] = "7"
        return response

    result = sender(handler).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code, result.retry_after_seconds) == (True, "130429", 7.0)


def test_server_error_without_json_is_retryable() -> None:
    result = sender(lambda r: httpx.Response(502, text="Bad gateway")).send(
        TEXT, idempotency_key="k"
    )
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code) == (True, "http_502")


def test_is_transient_makes_an_unknown_code_retryable() -> None:
    result = interpret_response(400, json.dumps({"error": {"is_transient": True}}).encode(), {})
    assert isinstance(result, SendFailure) and result.retryable


def test_redirects_are_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    result = sender(handler).send(TEXT, idempotency_key="k")
    assert len(calls) == 1
    assert isinstance(result, SendFailure) and not result.retryable
    assert "169.254.169.254" in result.detail


def test_read_timeout_is_an_unknown_outcome_not_a_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    result = sender(handler).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendOutcomeUnknown)
    assert result.reason == "timeout"


def test_a_connection_that_never_opened_is_a_retryable_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = sender(handler).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code) == (True, "network")


def test_a_dropped_connection_after_sending_is_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed", request=request)

    assert isinstance(sender(handler).send(TEXT, idempotency_key="k"), SendOutcomeUnknown)


def test_the_sender_closes_as_a_context_manager() -> None:
    with sender(lambda r: httpx.Response(200, json={"success": True})) as client:
        client.send(MarkAsRead("wamid.x"), idempotency_key="k")
    assert client._client.is_closed


def test_any_other_transport_error_is_an_unknown_outcome_not_an_exception() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("garbled")

    result = sender(handler).send(TEXT, idempotency_key="k")
    assert isinstance(result, SendOutcomeUnknown) and result.reason == "transport"
