"""DarajaClient over a mock transport: token cache, one refresh on 401, every call's answers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.mpesa.client import DarajaClient, DarajaError, StkPushAccepted, api_url
from connectors.mpesa.codes import PaymentState
from connectors.mpesa.requests import Merchant
from engine.core.clock import FrozenClock
from tests.mpesa import samples

MERCHANT = Merchant("174379", "passkey")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Daraja:
    """A scripted Daraja: counts tokens handed out, answers each path from a list."""

    def __init__(self) -> None:
        self.tokens = 0
        self.requests: list[httpx.Request] = []
        self.answers: dict[str, list[httpx.Response]] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/v1/generate":
            self.tokens += 1
            return httpx.Response(
                200, json={"access_token": f"t{self.tokens}", "expires_in": "3599"}
            )
        queue = self.answers.get(request.url.path, [])
        if not queue:
            return httpx.Response(404, json={"errorCode": "404.000", "errorMessage": "no"})
        return queue.pop(0)


def client(daraja: Daraja, clock: FrozenClock | None = None) -> DarajaClient:
    return DarajaClient(
        base_url="https://daraja.test/",
        consumer_key="key",
        consumer_secret="secret",
        clock=clock or FrozenClock(START),
        transport=httpx.MockTransport(daraja.handle),
    )


def push(c: DarajaClient) -> StkPushAccepted:
    return c.stk_push(
        MERCHANT,
        phone="0712345678",
        amount=100,
        callback_url="https://kazi.test/cb",
        account_reference="INV-1",
        description="Order 1",
    )


def test_the_token_is_fetched_with_basic_auth_and_cached_until_shortly_before_expiry() -> None:
    daraja = Daraja()
    clock = FrozenClock(START)
    c = client(daraja, clock)
    assert c.access_token() == "t1"
    token_request = daraja.requests[0]
    assert token_request.url.params["grant_type"] == "client_credentials"
    assert (
        token_request.headers["authorization"]
        == "Basic " + base64.b64encode(b"key:secret").decode()
    )
    clock.advance(timedelta(minutes=58))
    assert c.access_token() == "t1"
    clock.advance(timedelta(seconds=90))  # 59.5 min: within a minute of the 3599 s expiry
    assert c.access_token() == "t2"
    assert daraja.tokens == 2


def test_push_sends_the_body_with_the_bearer_token() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/stkpush/v1/processrequest"] = [
        httpx.Response(200, json=samples.STK_ACCEPTED)
    ]
    accepted = push(client(daraja))
    assert accepted.checkout_request_id == "ws_CO_DMZ_123212312_2342347678234"
    assert accepted.merchant_request_id == "16813-1590513-1"
    sent = daraja.requests[-1]
    assert sent.headers["authorization"] == "Bearer t1"
    body = json.loads(sent.content)
    assert body["PhoneNumber"] == "254712345678" and body["Amount"] == 100
    assert body["Timestamp"] == "20260302110000"


def test_a_401_refreshes_the_token_once_and_repeats_the_call() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/stkpush/v1/processrequest"] = [
        httpx.Response(
            401, json={"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
        ),
        httpx.Response(200, json=samples.STK_ACCEPTED),
    ]
    c = client(daraja)
    push(c)
    assert daraja.tokens == 2
    assert daraja.requests[-1].headers["authorization"] == "Bearer t2"


def test_a_second_401_is_an_error_not_a_loop() -> None:
    daraja = Daraja()
    refused = {"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}
    daraja.answers["/mpesa/stkpush/v1/processrequest"] = [
        httpx.Response(401, json=refused),
        httpx.Response(401, json=refused),
    ]
    with pytest.raises(DarajaError) as raised:
        push(client(daraja))
    assert raised.value.http_status == 401 and daraja.tokens == 2


def test_the_error_envelope_is_read() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/stkpush/v1/processrequest"] = [
        httpx.Response(400, json=samples.ERROR_ENVELOPE)
    ]
    with pytest.raises(DarajaError) as raised:
        push(client(daraja))
    error = raised.value
    assert error.error_code == "400.002.02" and "Invalid PhoneNumber" in error.message
    assert not error.retryable and not error.maybe_sent


def test_a_busy_subscriber_on_push_is_retryable() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/stkpush/v1/processrequest"] = [
        httpx.Response(
            500,
            json={"errorCode": "500.001.1001", "errorMessage": "Unable to lock subscriber"},
        )
    ]
    with pytest.raises(DarajaError) as raised:
        push(client(daraja))
    assert raised.value.retryable


def test_a_push_that_timed_out_may_have_been_sent_and_is_not_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v1/generate":
            return httpx.Response(200, json=samples.TOKEN)
        raise httpx.ReadTimeout("slow", request=request)

    c = DarajaClient(
        base_url="https://daraja.test",
        consumer_key="k",
        consumer_secret="s",
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(DarajaError) as raised:
        push(c)
    assert raised.value.maybe_sent and not raised.value.retryable


def test_an_unreachable_daraja_is_retryable_and_nothing_was_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    c = DarajaClient(
        base_url="https://daraja.test",
        consumer_key="k",
        consumer_secret="s",
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(DarajaError) as raised:
        c.access_token()
    assert raised.value.retryable and not raised.value.maybe_sent


def test_query_final_answer_and_processing() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/stkpushquery/v1/query"] = [
        httpx.Response(500, json=samples.STK_QUERY_PROCESSING),
        httpx.Response(200, json=samples.STK_QUERY_FINAL),
    ]
    c = client(daraja)
    pending = c.stk_query(MERCHANT, "ws_CO_13012021093521236557")
    assert pending.in_progress and pending.meaning.state is PaymentState.PENDING
    final = c.stk_query(MERCHANT, "ws_CO_13012021093521236557")
    assert not final.in_progress
    assert final.result_code == "1032" and final.meaning.state is PaymentState.CANCELLED


def test_register_urls_reads_safaricoms_spelling() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/c2b/v1/registerurl"] = [
        httpx.Response(200, json=samples.REGISTER_ANSWER)
    ]
    answer = client(daraja).register_urls(
        "600000", confirmation_url="https://c", validation_url="https://v"
    )
    assert answer.originator_conversation_id == "7619-37765134-1"


def test_transaction_status_is_acknowledged() -> None:
    daraja = Daraja()
    daraja.answers["/mpesa/transactionstatus/v1/query"] = [
        httpx.Response(200, json=samples.STATUS_ACK)
    ]
    answer = client(daraja).transaction_status(
        initiator="testapi",
        security_credential="blob",
        transaction_id="NLJ7RT61SV",
        party_a="600999",
        result_url="https://r",
        timeout_url="https://t",
    )
    assert answer.conversation_id == "AG_20180223_0000493344ae97d86f75"
    assert answer.originator_conversation_id == "3213-416199-2"


def test_the_base_url_comes_from_the_environment_first() -> None:
    assert api_url("production", {"KAZI_MPESA_API_URL": "http://127.0.0.1:8091/"}) == (
        "http://127.0.0.1:8091"
    )
    assert api_url("sandbox", {}) == "https://sandbox.safaricom.co.ke"
    assert api_url("production", {}) == "https://api.safaricom.co.ke"
