"""The push itself (no answer, refusals, busy phones, empty amounts) and till or paybill (C2B)
payments."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from connectors.mpesa.client import DarajaClient
from engine.auth import Principal, Role
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import InvalidInput
from engine.models import Identity, OutboxRow, Payment
from engine.outbox.dispatch import dispatch_outbox_row, retry_outbox_row
from engine.payments.accounts import DarajaClients
from engine.payments.callbacks import CONFIRM_KIND
from engine.payments.confirm import NO_INITIATOR
from engine.payments.request import REQUEST_KIND, UNKNOWN_PUSH, make_payment_executor
from engine.payments.staff import match_to_order
from tests.mpesa import samples
from tests.payments.conftest import NOW
from tests.payments.harness import SECRETS, Shop


def test_a_push_without_an_answer_is_unknown_and_never_pushed_again(shop: Shop) -> None:
    pushes: list[httpx.Request] = []

    def daraja(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v1/generate":
            return httpx.Response(200, json=samples.TOKEN)
        pushes.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    executor = make_payment_executor(
        shop.runtime.configs, DarajaClients(shop.clock, transport=httpx.MockTransport(daraja))
    )
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    [row] = shop.outbox(REQUEST_KIND)
    for _ in range(2):  # the push, then a manual retry of the failed row
        dispatch_outbox_row(
            row_id=row.id, db=shop.db, clock=shop.clock, executors={REQUEST_KIND: executor}
        )
        [row] = shop.outbox(REQUEST_KIND)
        assert row.state == "failed" and UNKNOWN_PUSH in (row.last_error or "")
        assert retry_outbox_row(shop.db, shop.workspace_id, row.id, shop.clock.now())
    assert len(pushes) == 1
    [payment] = shop.payments()
    assert payment.state == "unknown" and payment.checkout_request_id is None


def test_a_500_is_retried_and_the_payment_is_written_once(shop: Shop) -> None:
    httpx.post(f"{shop.simulator_url}/_sim/faults", json={"spec": "500:1"}).raise_for_status()
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "queued" and "System is busy" in (row.last_error or "")
    [payment] = shop.payments()
    assert payment.state == "requested"
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "done"
    [payment] = shop.payments()
    assert payment.state == "pending" and payment.checkout_request_id
    assert len(shop.world.pushes) == 1


def test_an_expired_token_is_refreshed_without_a_failure(shop: Shop) -> None:
    first, _ = shop.customer()
    shop.accept_quote(first)
    shop.dispatch(REQUEST_KIND)
    httpx.post(f"{shop.simulator_url}/_sim/faults", json={"spec": "oauth-expiry"})
    [payment] = shop.payments()
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            OutboxRow(
                kind=CONFIRM_KIND,
                payload={"payment_id": payment.id},
                idempotency_key=f"test:{payment.id}",
                next_attempt_at=shop.clock.now(),
            )
        )
        session.commit()
    [confirm] = shop.dispatch(CONFIRM_KIND)
    assert confirm.state == "done", confirm.last_error


def test_a_push_waits_while_another_to_the_same_phone_is_pending(shop: Shop) -> None:
    conversation_id, _ = shop.customer()
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            Payment(
                provider="mpesa",
                integration="mpesa",
                source="stk",
                phone="+254712345678",
                amount=Decimal("10"),
                state="pending",
                checkout_request_id="ws_CO_earlier",
                requested_at=shop.clock.now(),
                pushed_at=shop.clock.now() - timedelta(seconds=20),
            )
        )
        session.commit()
    shop.accept_quote(conversation_id)
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "queued" and row.attempts == 0
    assert shop.world.pushes == {}


def test_an_empty_amount_is_never_pushed(shop: Shop) -> None:
    conversation_id, _ = shop.customer(amount=None)
    shop.accept_quote(conversation_id)
    assert shop.conversation(conversation_id).stage == "payment"
    assert shop.outbox(REQUEST_KIND) == []


def register_c2b(shop: Shop) -> DarajaClient:
    client = DarajaClient(
        base_url=shop.simulator_url,
        consumer_key=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_KEY"],
        consumer_secret=SECRETS["KAZI_RETAIL_MPESA_CONSUMER_SECRET"],
    )
    client.register_urls(
        "5123874",
        confirmation_url=shop.callback_url("c2b/confirmation"),
        validation_url=shop.callback_url("c2b/validation"),
    )
    return client


def pay_by_till(shop: Shop, client: DarajaClient, amount: int, account: str) -> None:
    httpx.post(
        f"{shop.simulator_url}/mpesa/c2b/v1/simulate",
        headers={"Authorization": f"Bearer {client.access_token()}"},
        json={
            "ShortCode": "5123874",
            "CommandID": "CustomerBuyGoodsOnline",
            "Amount": amount,
            "Msisdn": "254712345678",
            "BillRefNumber": account,
        },
    ).raise_for_status()


def test_a_till_payment_matching_an_open_request_is_confirmed_by_transaction_status(
    shop: Shop,
) -> None:
    client = register_c2b(shop)
    shop.outcomes("processing")  # the customer ignores the prompt and pays by till instead
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    [payment] = shop.payments()
    typed = f" {(payment.account_reference or '').lower()} "  # as a customer types it
    pay_by_till(shop, client, 23500, typed)
    shop.wait_for_callbacks(1)
    shop.process()
    [payment] = shop.payments()
    assert payment.receipt and payment.state == "pending"
    assert "C2B" in (payment.flag or "")
    [confirm] = shop.dispatch(CONFIRM_KIND)
    assert confirm.state == "done", confirm.last_error
    [query] = shop.world.status_queries
    assert query["TransactionID"] == payment.receipt and query["Initiator"] == "kazi_api"
    assert query["ResultURL"] == shop.callback_url("result")
    shop.wait_for_callbacks(2)
    shop.process()
    [payment] = shop.payments()
    assert payment.state == "paid" and payment.paid_amount == Decimal("23500")
    assert shop.conversation(conversation_id).stage == "fulfilment"


def test_an_unmatched_till_payment_is_kept_and_flagged(shop: Shop) -> None:
    client = register_c2b(shop)
    pay_by_till(shop, client, 700, "who knows")
    shop.wait_for_callbacks(1)
    shop.process()
    [payment] = shop.payments()
    assert payment.source == "c2b" and payment.conversation_id is None
    assert payment.paid_amount == Decimal("700") and "Unmatched" in (payment.flag or "")
    # The same confirmation again is the same payment.
    [event] = shop.events()
    again = httpx.post(shop.callback_url("c2b/confirmation"), json=event.payload["body"])
    assert again.json() == {"ResultCode": 0, "ResultDesc": "Success"}
    shop.process()
    assert len(shop.payments()) == 1


def test_validation_is_accepted(shop: Shop) -> None:
    answer = httpx.post(shop.callback_url("c2b/validation"), json=samples.C2B)
    assert answer.json() == {"ResultCode": "0", "ResultDesc": "Accepted"}
    shop.process()
    assert shop.payments() == []


def test_without_an_initiator_a_c2b_payment_waits_for_staff(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAZI_RETAIL_MPESA_SECURITY_CREDENTIAL")
    client = register_c2b(shop)
    pay_by_till(shop, client, 700, "who knows")
    shop.wait_for_callbacks(1)
    shop.process()
    [confirm] = shop.dispatch(CONFIRM_KIND)
    assert confirm.state == "done"
    [payment] = shop.payments()
    assert payment.state == "pending" and NO_INITIATOR in (payment.flag or "")
    assert shop.world.status_queries == []


def test_a_refused_number_fails_the_request_and_a_retry_after_fixing_it_pushes(
    shop: Shop,
) -> None:
    conversation_id, _ = shop.customer(phone="+14155550100")
    shop.accept_quote(conversation_id)
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "failed" and "Kenyan" in (row.last_error or "")
    [payment] = shop.payments()
    assert payment.state == "failed" and shop.world.pushes == {}
    with workspace_session(shop.db, shop.workspace_id) as session:
        identity = session.scalars(select(Identity)).one()
        identity.address = "+254712345678"
        session.commit()
    assert retry_outbox_row(shop.db, shop.workspace_id, row.id, shop.clock.now())
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "done", row.last_error
    [payment] = shop.payments()
    assert payment.state == "pending" and len(shop.world.pushes) == 1


def test_a_callback_racing_the_recording_of_its_push_is_retried_not_flagged(shop: Shop) -> None:
    with workspace_session(shop.db, shop.workspace_id) as session:
        session.add(
            Payment(
                provider="mpesa",
                integration="mpesa",
                source="stk",
                phone="+254712345678",
                amount=Decimal("10"),
                state="requested",
                requested_at=shop.clock.now(),
            )
        )
        session.commit()
    body = {**samples.STK_CANCELLED}
    httpx.post(shop.callback_url("stk"), json=body).raise_for_status()
    shop.process()
    [event] = shop.events()
    assert event.state == "received" and "still being recorded" in (event.last_error or "")


def test_a_manager_matches_an_unmatched_payment_to_its_order(shop: Shop) -> None:
    client = register_c2b(shop)
    shop.outcomes("processing")
    conversation_id, order_id = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    pay_by_till(shop, client, 23500, "my order")
    shop.wait_for_callbacks(1)
    shop.process()
    shop.dispatch(CONFIRM_KIND)  # Transaction Status by receipt
    shop.wait_for_callbacks(2)
    shop.process()
    unmatched = next(p for p in shop.payments() if p.source == "c2b")
    assert unmatched.state == "paid" and unmatched.conversation_id is None
    assert shop.conversation(conversation_id).stage == "payment"
    manager = Principal(shop.workspace_id, Role.MANAGER, "Wanjiru")
    reference = shop.order(order_id).external_ref or ""
    with unit_of_work(shop.db, shop.workspace_id) as session, pytest.raises(InvalidInput):
        match_to_order(session, shop.runtime.configs, manager, unmatched.id, "NOPE-1", NOW)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        match_to_order(session, shop.runtime.configs, manager, unmatched.id, reference, NOW)
    matched = next(p for p in shop.payments() if p.id == unmatched.id)
    assert matched.conversation_id == conversation_id and matched.business_object_id == order_id
    assert f"Matched to order {reference} by Wanjiru" in (matched.flag or "")
    assert shop.conversation(conversation_id).stage == "fulfilment"
