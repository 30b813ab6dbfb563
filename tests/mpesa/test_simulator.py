"""The Daraja simulator over real HTTP: DarajaClient talks to it, it calls a receiver back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post
from litestar.params import FromPath

from connectors.mpesa.callbacks import parse_c2b, parse_stk_callback, parse_transaction_status
from connectors.mpesa.client import DarajaClient, DarajaError
from connectors.mpesa.codes import PaymentState
from connectors.mpesa.requests import Merchant
from connectors.mpesa.simulator import DarajaWorld, SimulatorConfig, create_app
from connectors.whatsapp.simulator import ServerThread

MERCHANT = Merchant("174379", "passkey")


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []

        @post("/{kind:path}", status_code=200)
        async def anything(request: Request[Any, Any, Any], kind: FromPath[str]) -> dict[str, Any]:
            self.received.append((kind.strip("/"), await request.json()))
            return {"ResultCode": 0, "ResultDesc": "Accepted"}

        self.app = Litestar(route_handlers=[anything], openapi_config=None)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


@pytest.fixture()
def world() -> DarajaWorld:
    return DarajaWorld(
        SimulatorConfig(passkeys={"174379": "passkey"}, callback_delay=0.05, late_seconds=0.6),
        seed=7,
    )


@pytest.fixture()
def servers(world: DarajaWorld) -> Iterator[tuple[str, str, Receiver]]:
    receiver = Receiver()
    with ServerThread(create_app(world)) as daraja, ServerThread(receiver.app) as back:
        yield daraja.url, back.url, receiver


def daraja_client(url: str) -> DarajaClient:
    return DarajaClient(
        base_url=url, consumer_key="kazi-sim-key", consumer_secret="kazi-sim-secret"
    )


def push(client: DarajaClient, back: str, amount: int = 100) -> str:
    accepted = client.stk_push(
        MERCHANT,
        phone="0712345678",
        amount=amount,
        callback_url=f"{back}/stk",
        account_reference="INV-1",
        description="Order 1",
    )
    return accepted.checkout_request_id


def queue(url: str, *outcomes: str) -> None:
    httpx.post(f"{url}/_sim/outcomes", json={"outcomes": list(outcomes)}).raise_for_status()


def test_a_paid_push_calls_back_with_a_receipt(servers: tuple[str, str, Receiver]) -> None:
    url, back, receiver = servers
    client = daraja_client(url)
    checkout = push(client, back, 250)
    [(path, body)] = receiver.wait_for(1)
    callback = parse_stk_callback(body)
    assert path == "stk" and callback.paid and callback.checkout_request_id == checkout
    assert callback.amount == 250 and callback.receipt and callback.phone == "254712345678"
    assert client.stk_query(MERCHANT, checkout).meaning.state is PaymentState.PAID


@pytest.mark.parametrize(
    ("outcome", "code", "state"),
    [
        ("cancel", "1032", PaymentState.CANCELLED),
        ("timeout", "1037", PaymentState.TIMEOUT),
        ("wrong-pin", "2001", PaymentState.FAILED),
        ("insufficient", "1", PaymentState.FAILED),
    ],
)
def test_failures_call_back_and_query_the_same(
    servers: tuple[str, str, Receiver], outcome: str, code: str, state: PaymentState
) -> None:
    url, back, receiver = servers
    queue(url, outcome)
    client = daraja_client(url)
    checkout = push(client, back)
    [(_, body)] = receiver.wait_for(1)
    callback = parse_stk_callback(body)
    assert callback.result_code == code and callback.meaning.state is state
    answer = client.stk_query(MERCHANT, checkout)
    assert answer.result_code == code


def test_duplicate_late_and_missing_callbacks(servers: tuple[str, str, Receiver]) -> None:
    url, back, receiver = servers
    queue(url, "duplicate", "late", "no-callback")
    client = daraja_client(url)
    duplicate = push(client, back)
    late = push(client, back)
    missing = push(client, back)
    first_two = receiver.wait_for(2, timeout=0.4)
    assert [parse_stk_callback(b).checkout_request_id for _, b in first_two] == [
        duplicate,
        duplicate,
    ]
    assert client.stk_query(MERCHANT, late).meaning.state is PaymentState.PAID
    everything = receiver.wait_for(3)
    assert parse_stk_callback(everything[2][1]).checkout_request_id == late
    time.sleep(0.2)
    assert len(receiver.received) == 3
    assert client.stk_query(MERCHANT, missing).meaning.state is PaymentState.PAID


def test_processing_until_the_customer_answers(servers: tuple[str, str, Receiver]) -> None:
    url, back, receiver = servers
    queue(url, "processing")
    client = daraja_client(url)
    checkout = push(client, back)
    assert client.stk_query(MERCHANT, checkout).in_progress
    httpx.post(
        f"{url}/_sim/pushes/{checkout}/complete", json={"outcome": "success"}
    ).raise_for_status()
    [(_, body)] = receiver.wait_for(1)
    assert parse_stk_callback(body).paid
    assert not client.stk_query(MERCHANT, checkout).in_progress


def test_mismatch_and_fail_then_success(servers: tuple[str, str, Receiver]) -> None:
    url, back, receiver = servers
    queue(url, "mismatch", "fail-then-success")
    client = daraja_client(url)
    push(client, back, 500)
    push(client, back, 500)
    received = [parse_stk_callback(b) for _, b in receiver.wait_for(3)]
    assert received[0].amount == 499
    assert [c.result_code for c in received[1:]] == ["1037", "0"]


def test_oauth_expiry_is_refreshed_once_and_500s_are_retryable(
    servers: tuple[str, str, Receiver], world: DarajaWorld
) -> None:
    url, back, _ = servers
    client = daraja_client(url)
    push(client, back)
    httpx.post(f"{url}/_sim/faults", json={"spec": "oauth-expiry"}).raise_for_status()
    push(client, back)  # the stale token gets a 401; the client fetches a new one
    httpx.post(f"{url}/_sim/faults", json={"spec": "500:1"}).raise_for_status()
    with pytest.raises(DarajaError) as raised:
        push(client, back)
    assert raised.value.retryable and raised.value.http_status == 500
    assert len(world.pushes) == 2


def test_a_wrong_password_is_refused(servers: tuple[str, str, Receiver]) -> None:
    url, back, _ = servers
    client = daraja_client(url)
    with pytest.raises(DarajaError) as raised:
        client.stk_push(
            Merchant("174379", "wrong"),
            phone="0712345678",
            amount=1,
            callback_url=f"{back}/stk",
            account_reference="A",
            description="B",
        )
    assert "Invalid Password" in raised.value.message and not raised.value.retryable


def test_c2b_and_transaction_status_call_back(servers: tuple[str, str, Receiver]) -> None:
    url, back, receiver = servers
    client = daraja_client(url)
    client.register_urls(
        "600000", confirmation_url=f"{back}/c2b/confirmation", validation_url=f"{back}/c2b/v"
    )
    token = client.access_token()
    httpx.post(
        f"{url}/mpesa/c2b/v1/simulate",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "ShortCode": "600000",
            "CommandID": "CustomerPayBillOnline",
            "Amount": 750,
            "Msisdn": "254708374149",
            "BillRefNumber": "duka-1042",
        },
    ).raise_for_status()
    [(path, body)] = receiver.wait_for(1)
    payment = parse_c2b(body)
    assert path == "c2b/confirmation" and payment.amount == 750
    assert payment.account_reference == "DUKA1042" and "****" in payment.msisdn
    checkout = push(client, back, 120)
    receiver.wait_for(2)
    receipt = parse_stk_callback(receiver.received[1][1]).receipt
    assert receipt is not None
    client.transaction_status(
        initiator="api",
        security_credential="x",
        transaction_id=receipt,
        party_a="174379",
        result_url=f"{back}/result",
        timeout_url=f"{back}/result",
    )
    result = parse_transaction_status(receiver.wait_for(3)[2][1])
    assert result.completed and result.receipt == receipt and result.amount == 120
    assert checkout
