"""Issue 12: the reference's own callback bodies (mpesa-daraja.md §2.3, §3.3-3.4, §4),
posted to the real routes: stored, answered as Daraja expects, applied or flagged."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx

from engine.payments.request import REQUEST_KIND
from engine.workspaces.load import load_folder
from tests.payments.conftest import NOW
from tests.payments.harness import Shop

# Reference §2.3, the failure example, verbatim but for the checkout id.
STK_CANCELLED: dict[str, Any] = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "68441-128341933-1",
            "CheckoutRequestID": "ws_CO_17112022155511840796440427",
            "ResultCode": 1032,
            "ResultDesc": "Request cancelled by user",
        }
    }
}
# Reference §3.3, verbatim.
C2B: dict[str, Any] = {
    "TransactionType": "Pay Bill",
    "TransID": "RKTQDM7W6S",
    "TransTime": "20191122063845",
    "TransAmount": "10.00",
    "BusinessShortCode": "600638",
    "BillRefNumber": "invoice008",
    "InvoiceNumber": "",
    "OrgAccountBalance": "49197.00",
    "ThirdPartyTransID": "",
    "MSISDN": "25470****149",
    "FirstName": "John",
    "MiddleName": "",
    "LastName": "",
}
# Reference §4: the QueueTimeOutURL answer, a Result envelope with no parameters.
STATUS_TIMEOUT: dict[str, Any] = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 1,
        "ResultDesc": "The balance is insufficient for the transaction.",
        "OriginatorConversationID": "3213-416199-9",
        "ConversationID": "AG_20180223_0000493344ae97d86f79",
        "TransactionID": "MBN0000009",
        "ReferenceData": {"ReferenceItem": [{"Key": "Occasion", "Value": "INV-1042"}]},
    }
}


def mpesa_path(shop: Shop, kind: str) -> str:
    """The paths issue 12 names, `/webhooks/mpesa/...` (Kazi registers `payments`)."""
    return f"{shop.kazi_url}/webhooks/mpesa/{shop.slug}/{shop.token}/{kind}"


def test_the_issue_paths_under_webhooks_mpesa_take_the_same_callbacks(shop: Shop) -> None:
    shop.outcomes("processing")
    conversation_id, _ = shop.customer()
    shop.accept_quote(conversation_id)
    [row] = shop.dispatch(REQUEST_KIND)
    assert row.state == "done", row.last_error
    [payment] = shop.payments()
    body = copy.deepcopy(STK_CANCELLED)
    body["Body"]["stkCallback"]["CheckoutRequestID"] = payment.checkout_request_id
    answer = httpx.post(mpesa_path(shop, "stk"), json=body)
    assert answer.status_code == 200 and answer.json()["ResultCode"] == 0
    # A repeat of the same callback is the same stored event (reference §7: duplicates).
    assert httpx.post(mpesa_path(shop, "stk"), json=body).status_code == 200
    shop.process()
    [event] = shop.events()
    assert event.state == "processed"
    [payment] = shop.payments()
    assert payment.state == "cancelled" and payment.result_code == "1032"
    # A wrong token under the alias is still a 404 that stores nothing.
    wrong = f"{shop.kazi_url}/webhooks/mpesa/{shop.slug}/not-the-token/stk"
    assert httpx.post(wrong, json=body).status_code == 404
    assert len(shop.events()) == 1


def test_validation_accepts_the_reference_example_and_keeps_the_answer(shop: Shop) -> None:
    answer = httpx.post(shop.callback_url("c2b/validation"), json=C2B)
    assert answer.json() == {"ResultCode": "0", "ResultDesc": "Accepted"}
    [event] = shop.events()
    assert event.payload["answer"] == {"ResultCode": "0", "ResultDesc": "Accepted"}
    assert event.payload["body"]["TransID"] == "RKTQDM7W6S"


def test_validation_refuses_a_zero_amount_and_an_unreadable_body(shop: Shop) -> None:
    zero = httpx.post(shop.callback_url("c2b/validation"), json={**C2B, "TransAmount": "0.00"})
    assert zero.json() == {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
    no_id = {k: v for k, v in C2B.items() if k != "TransID"}
    broken = httpx.post(shop.callback_url("c2b/validation"), json=no_id)
    assert broken.status_code == 200
    assert broken.json() == {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}
    events = shop.events()
    assert len(events) == 2  # both kept
    flagged = [e for e in events if e.state == "flagged"]
    assert len(flagged) == 1 and "TransID" in (flagged[0].last_error or "")


def test_known_accounts_validation_refuses_unknown_accounts_and_other_shortcodes(
    shop: Shop, tmp_path: Path
) -> None:
    integrations = tmp_path / "configs" / shop.slug / "integrations.yaml"
    integrations.write_text(integrations.read_text() + "    c2b_validation: known_accounts\n")
    load_folder(shop.db, integrations.parent, NOW)  # the edited config is the one in force
    shop.outcomes("processing")
    conversation_id, order_id = shop.customer()
    shop.accept_quote(conversation_id)
    shop.dispatch(REQUEST_KIND)
    [payment] = shop.payments()
    reference = payment.account_reference or ""
    assert reference
    ours = {**C2B, "BusinessShortCode": "8765432"}

    def ask(body: dict[str, Any]) -> str:
        return str(httpx.post(shop.callback_url("c2b/validation"), json=body).json()["ResultCode"])

    assert ask(ours) == "C2B00012"  # "invoice008" names nothing here
    typed = reference.lower()[:4] + " " + reference.lower()[4:]  # case and a space
    assert ask({**ours, "TransID": "RKTQDM7W61", "BillRefNumber": typed}) == "0"
    order_ref = shop.order(order_id).external_ref or ""
    assert ask({**ours, "TransID": "RKTQDM7W62", "BillRefNumber": order_ref}) == "0"
    assert ask({**C2B, "TransID": "RKTQDM7W63", "BillRefNumber": reference}) == "C2B00015"


def test_a_transaction_status_timeout_on_its_own_path_is_kept_and_answered(shop: Shop) -> None:
    answer = httpx.post(shop.callback_url("timeout"), json=STATUS_TIMEOUT)
    assert answer.status_code == 200 and answer.json()["ResultCode"] == 0
    shop.process()
    [event] = shop.events()
    # For no payment of this workspace: shown to staff, never a traceback.
    assert event.state == "flagged" and "for no payment here" in (event.last_error or "")
