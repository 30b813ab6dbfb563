"""A rule asks for M-Pesa, the simulator's customer answers, the pipeline moves (or does not)."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from engine.db import workspace_session
from engine.models import Note, Task
from engine.payments.callbacks import CONFIRM_KIND
from engine.payments.request import REQUEST_KIND
from tests.payments.harness import Shop


def notes(shop: Shop, conversation_id: int) -> list[str]:
    with workspace_session(shop.db, shop.workspace_id) as session:
        return list(
            session.scalars(select(Note.body).where(Note.conversation_id == conversation_id))
        )


def test_a_paid_push_confirmed_by_query_moves_the_order_to_fulfilment(shop: Shop) -> None:
    conversation_id, order_id = shop.customer()
    shop.accept_quote(conversation_id)
    assert shop.conversation(conversation_id).stage == "payment"
    [request] = shop.dispatch(REQUEST_KIND)
    assert request.state == "done", request.last_error
    [payment] = shop.payments()
    assert payment.state == "pending" and payment.checkout_request_id
    assert payment.amount == Decimal("23500") and payment.phone == "+254712345678"
    [push] = shop.world.pushes.values()
    assert push.request["PhoneNumber"] == "254712345678" and push.request["Amount"] == 23500
    assert push.request["TransactionType"] == "CustomerBuyGoodsOnline"
    assert push.request["CallBackURL"] == shop.callback_url("stk")
    assert "mpesa" not in push.request["CallBackURL"].split("//", 1)[1].lower()

    shop.wait_for_callbacks(1)
    [event] = shop.events()
    assert event.state == "received"
    shop.process()
    # A callback is a claim: nothing moves before M-Pesa's own status query agrees.
    [payment] = shop.payments()
    assert payment.state == "pending" and payment.receipt == push.receipt
    assert shop.conversation(conversation_id).stage == "payment"

    [confirm] = shop.dispatch(CONFIRM_KIND)
    assert confirm.state == "done", confirm.last_error
    [payment] = shop.payments()
    assert payment.state == "paid" and payment.paid_amount == Decimal("23500")
    assert payment.result_code == "0" and payment.flag is None and payment.settled_at
    conversation = shop.conversation(conversation_id)
    assert conversation.stage == "fulfilment"
    assert shop.order(order_id).fields["mpesa_receipt"] == push.receipt


def test_a_duplicate_callback_is_one_event_and_one_payment(shop: Shop) -> None:
    shop.outcomes("duplicate")
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    shop.wait_for_callbacks(2)
    assert len(shop.events()) == 1
    shop.process()
    shop.dispatch(CONFIRM_KIND)
    [payment] = shop.payments()
    assert payment.state == "paid"
    assert shop.conversation(conversation_id).stage == "fulfilment"
    # The same callback once more, after the fact: answered, never stored twice, no change.
    [event] = shop.events()
    replay = httpx.post(shop.callback_url("stk"), json=event.payload["body"])
    assert replay.status_code == 200 and replay.json()["ResultCode"] == 0
    assert len(shop.events()) == 1 and len(shop.outbox(CONFIRM_KIND)) == 1
    assert shop.payments()[0].state == "paid"


def test_a_timeout_is_queried_before_it_fails_and_the_owner_gets_a_task(shop: Shop) -> None:
    shop.outcomes("timeout")
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    shop.wait_for_callbacks(1)
    shop.process()
    [payment] = shop.payments()
    # 1037: money may have moved, so the state waits for M-Pesa's query.
    assert payment.state == "pending" and payment.result_code == "1037"
    assert notes(shop, conversation_id) == []
    [confirm] = shop.dispatch(CONFIRM_KIND)
    assert confirm.state == "done"
    [payment] = shop.payments()
    assert payment.state == "timeout" and payment.queries == 1
    assert "could not be reached" in (payment.result_meaning or "")
    assert [n for n in notes(shop, conversation_id) if "M-Pesa prompt failed" in n]
    with workspace_session(shop.db, shop.workspace_id) as session:
        titles = session.scalars(select(Task.title).where(Task.conversation_id == conversation_id))
        assert "Help Achieng complete the M-Pesa payment" in list(titles)
    assert shop.conversation(conversation_id).stage == "payment"
    assert len(shop.world.pushes) == 1  # never pushed again by itself


def test_a_cancelled_prompt_fails_at_once(shop: Shop) -> None:
    shop.outcomes("cancel")
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    shop.wait_for_callbacks(1)
    shop.process()
    [payment] = shop.payments()
    assert payment.state == "cancelled" and payment.result_code == "1032"
    assert shop.outbox(CONFIRM_KIND) == []
    assert any("cancelled the M-Pesa prompt" in n for n in notes(shop, conversation_id))
