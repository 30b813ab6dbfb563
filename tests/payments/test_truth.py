"""A callback is a claim: forged, mismatched, late and missing callbacks, and reconciliation."""

from __future__ import annotations

import copy
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from engine.auth import Principal, Role
from engine.auth.policy import Forbidden
from engine.automation.inbound import automations_for
from engine.db import unit_of_work, workspace_session
from engine.inbound.processing import process_inbound_event
from engine.inbox.errors import Conflict, InvalidInput
from engine.models import AuditLog, ConversationTag, InboundEvent
from engine.payments.callbacks import CONFIRM_KIND
from engine.payments.confirm import NO_RECEIPT_YET, reconcile_payments
from engine.payments.request import REQUEST_KIND
from engine.payments.staff import mark_paid_by_hand
from engine.workspaces.load import load_folder
from tests.mpesa import samples
from tests.payments.conftest import NOW
from tests.payments.harness import Shop


def pushed(shop: Shop, *outcomes: str) -> tuple[int, int]:
    if outcomes:
        shop.outcomes(*outcomes)
    conversation_id, order_id = shop.customer()
    shop.accept_quote(conversation_id)
    [row] = [r for r in shop.dispatch(REQUEST_KIND) if r.conversation_id == conversation_id]
    assert row.state == "done", row.last_error
    return conversation_id, order_id


def forged_success(checkout: str, amount: float = 23500.0, receipt: str = "FAKE123456") -> dict:
    body = copy.deepcopy(samples.STK_SUCCESS)
    callback = body["Body"]["stkCallback"]
    callback["CheckoutRequestID"] = checkout
    items = callback["CallbackMetadata"]["Item"]
    items[0]["Value"], items[1]["Value"] = amount, receipt
    return body


def test_a_wrong_token_or_path_is_404_and_stores_nothing(shop: Shop) -> None:
    body = forged_success("ws_CO_x")
    for url in (
        shop.callback_url("stk", token="not-the-token"),
        shop.callback_url("stk", slug="no_such_shop"),
        shop.callback_url("refund"),
    ):
        assert httpx.post(url, json=body).status_code == 404
    assert shop.events() == []


def test_a_forged_success_for_an_unpaid_push_never_moves_the_stage(shop: Shop) -> None:
    conversation_id, _ = pushed(shop, "processing")
    [payment] = shop.payments()
    checkout = payment.checkout_request_id or ""
    answer = httpx.post(shop.callback_url("stk"), json=forged_success(checkout, 1.0))
    assert answer.status_code == 200
    shop.process()
    [confirm] = shop.dispatch(CONFIRM_KIND)
    # M-Pesa's own query says it is still being processed: nothing is credited.
    assert confirm.state == "queued" and "still processing" in (confirm.last_error or "")
    [payment] = shop.payments()
    assert payment.state == "pending"
    assert shop.conversation(conversation_id).stage == "payment"
    # The real customer then cancels: the request fails, the fake receipt never counted.
    httpx.post(
        f"{shop.simulator_url}/_sim/pushes/{checkout}/complete", json={"outcome": "cancel"}
    ).raise_for_status()
    shop.wait_for_callbacks(1)
    shop.process()
    [payment] = shop.payments()
    assert payment.state == "cancelled"
    assert shop.conversation(conversation_id).stage == "payment"


def test_a_callback_for_a_checkout_never_issued_is_flagged_not_credited(shop: Shop) -> None:
    httpx.post(
        shop.callback_url("stk"), json=forged_success("ws_CO_nobody_asked")
    ).raise_for_status()
    shop.process()
    [event] = shop.events()
    assert event.state == "flagged" and "never issued" in (event.last_error or "")
    assert shop.payments() == []


def test_a_malformed_body_with_the_right_token_is_kept_and_flagged(shop: Shop) -> None:
    answer = httpx.post(shop.callback_url("stk"), content=b"{not json")
    assert answer.status_code == 200
    [event] = shop.events()
    assert event.state == "flagged" and event.payload["unreadable_body"] == "{not json"


def test_another_workspace_cannot_settle_this_ones_payment(
    shop: Shop, db: Engine, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id, _ = pushed(shop, "processing")
    [payment] = shop.payments()
    other = f"distributor_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "configs" / other
    shutil.copytree(repo_root / "configs" / "distributor", folder)
    (folder / "workspace.yaml").write_text(
        (folder / "workspace.yaml")
        .read_text()
        .replace("\nslug: distributor\n", f"\nslug: {other}\n")
    )
    other_id = load_folder(db, folder, NOW)
    monkeypatch.setenv("KAZI_DISTRIBUTOR_MPESA_CALLBACK_TOKEN", "distributor-token")
    forged = forged_success(payment.checkout_request_id or "")
    # The retail token does not open the distributor's URL, and the other way round.
    assert httpx.post(shop.callback_url("stk", slug=other), json=forged).status_code == 404
    assert (
        httpx.post(shop.callback_url("stk", token="distributor-token"), json=forged).status_code
        == 404
    )
    url = shop.callback_url("stk", token="distributor-token", slug=other)
    assert httpx.post(url, json=forged).status_code == 200
    with workspace_session(db, other_id) as session:
        [event] = session.scalars(select(InboundEvent).where(InboundEvent.provider == "mpesa"))
        event_id = event.id
    process_inbound_event(
        event_id=event_id,
        db=db,
        clock=shop.clock,
        handlers=shop.runtime.inbound_handlers,
        automations=automations_for(shop.runtime.configs),
    )
    with workspace_session(db, other_id) as session:
        flagged = session.get(InboundEvent, event_id)
        assert flagged is not None and flagged.state == "flagged"
    [payment] = shop.payments()
    assert payment.state == "pending" and payment.receipt is None
    assert shop.conversation(conversation_id).stage == "payment"


def test_an_amount_mismatch_is_paid_flagged_and_goes_to_the_manager(shop: Shop) -> None:
    conversation_id, _ = pushed(shop, "mismatch")
    shop.wait_for_callbacks(1)
    shop.process()
    shop.dispatch(CONFIRM_KIND)
    [payment] = shop.payments()
    assert payment.state == "paid" and payment.paid_amount == Decimal("23499")
    assert "Paid 23499" in (payment.flag or "") and "23500" in (payment.flag or "")
    assert shop.conversation(conversation_id).stage == "payment"
    with workspace_session(shop.db, shop.workspace_id) as session:
        tags = session.scalars(
            select(ConversationTag.name).where(ConversationTag.conversation_id == conversation_id)
        )
        assert "short-payment" in list(tags)


def test_a_success_after_a_timeout_callback_is_applied(shop: Shop) -> None:
    conversation_id, _ = pushed(shop, "fail-then-success")
    shop.wait_for_callbacks(2)
    shop.process()
    shop.dispatch(CONFIRM_KIND)
    [payment] = shop.payments()
    assert payment.state == "paid" and payment.receipt
    assert shop.conversation(conversation_id).stage == "fulfilment"


def test_reconciliation_settles_a_payment_whose_callback_never_came(shop: Shop) -> None:
    conversation_id, _ = pushed(shop, "processing")
    [payment] = shop.payments()
    checkout = payment.checkout_request_id or ""
    clients = shop.runtime.payment_clients
    assert clients is not None

    def reconcile(minutes: float) -> int:
        """One round `minutes` later; how often this shop's payment has been asked about."""
        reconcile_payments(shop.db, shop.runtime.configs, clients, shop.later(minutes))
        return shop.payments()[0].queries

    assert reconcile(1) == 0  # too young to ask about
    assert reconcile(3) == 1  # old enough; M-Pesa is still processing it
    assert shop.payments()[0].state == "pending"
    # The customer pays; the callback is lost. A later round's query settles it.
    httpx.post(
        f"{shop.simulator_url}/_sim/pushes/{checkout}/complete", json={"outcome": "no-callback"}
    ).raise_for_status()
    assert reconcile(1) == 1  # asked a minute ago: not yet again
    assert reconcile(3) == 2
    [payment] = shop.payments()
    assert payment.state == "paid"
    assert payment.flag == NO_RECEIPT_YET and payment.receipt is None
    assert shop.conversation(conversation_id).stage == "fulfilment"
    assert reconcile(10) == 2  # settled payments are not asked about again


def test_with_an_allow_list_a_callback_from_elsewhere_is_quarantined(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id, _ = pushed(shop, "processing")
    [payment] = shop.payments()
    forged = forged_success(payment.checkout_request_id or "")
    monkeypatch.setenv("KAZI_MPESA_CALLBACK_IPS", "safaricom")
    # The test client is 127.0.0.1, which uvicorn trusts as a proxy (FORWARDED_ALLOW_IPS):
    # it believes the hop that proxy added, and only that one.
    for forwarded in (None, "198.51.100.9", "196.201.214.200, 198.51.100.9"):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        answer = httpx.post(shop.callback_url("stk"), json=forged, headers=headers)
        assert answer.status_code == 200
    events = shop.events()
    assert [e.state for e in events] == ["flagged", "flagged"]  # the last two are one source
    assert all("not on KAZI_MPESA_CALLBACK_IPS" in (e.last_error or "") for e in events)
    shop.process()
    assert shop.payments()[0].receipt is None
    httpx.post(
        shop.callback_url("stk"), json=forged, headers={"X-Forwarded-For": "196.201.214.200"}
    ).raise_for_status()
    shop.process()
    assert [e.state for e in shop.events()] == ["flagged", "flagged", "processed"]
    assert shop.payments()[0].receipt == "FAKE123456"
    assert shop.conversation(conversation_id).stage == "payment"  # still only a claim


def test_a_manager_marks_a_payment_paid_by_hand_with_a_reason(shop: Shop) -> None:
    conversation_id, _ = pushed(shop, "processing")
    [payment] = shop.payments()
    manager = Principal(shop.workspace_id, Role.MANAGER, "Wanjiru")
    agent = Principal(shop.workspace_id, Role.AGENT, "Brian")
    now = shop.clock.now()
    with unit_of_work(shop.db, shop.workspace_id) as session, pytest.raises(Forbidden):
        mark_paid_by_hand(session, shop.runtime.configs, agent, payment.id, "seen it", now)
    with unit_of_work(shop.db, shop.workspace_id) as session, pytest.raises(InvalidInput):
        mark_paid_by_hand(session, shop.runtime.configs, manager, payment.id, "  ", now)
    with unit_of_work(shop.db, shop.workspace_id) as session:
        mark_paid_by_hand(
            session, shop.runtime.configs, manager, payment.id, "On the statement: SGH7K2L9QX", now
        )
    [payment] = shop.payments()
    assert payment.state == "paid" and payment.result_code == "manual"
    assert "by hand by Wanjiru: On the statement: SGH7K2L9QX" in (payment.flag or "")
    assert shop.conversation(conversation_id).stage == "fulfilment"
    with workspace_session(shop.db, shop.workspace_id) as session:
        [entry] = session.scalars(
            select(AuditLog).where(AuditLog.action == "payment_marked_paid")
        ).all()
        assert entry.subject_id == payment.id and "SGH7K2L9QX" in entry.detail["reason"]
    with unit_of_work(shop.db, shop.workspace_id) as session, pytest.raises(Conflict):
        mark_paid_by_hand(session, shop.runtime.configs, manager, payment.id, "again", now)


def test_a_second_receipt_for_one_request_is_flagged_on_the_payment_not_credited(
    shop: Shop,
) -> None:
    pushed(shop, "processing")
    [payment] = shop.payments()
    checkout = payment.checkout_request_id or ""
    url = shop.callback_url("stk")
    httpx.post(url, json=forged_success(checkout, receipt="RCPT000001")).raise_for_status()
    shop.process()
    httpx.post(url, json=forged_success(checkout, receipt="RCPT000002")).raise_for_status()
    shop.process()
    [payment] = shop.payments()
    # The first receipt stays; the second is kept as a flag where staff look, not lost.
    assert payment.receipt == "RCPT000001"
    assert "A second receipt RCPT000002" in (payment.flag or "")
    assert [event.state for event in shop.events()] == ["processed", "processed"]
