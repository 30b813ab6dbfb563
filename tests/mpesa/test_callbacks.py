"""Parsing every callback shape of the reference (§2.3, §3.3, §4)."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.mpesa.callbacks import (
    MalformedCallback,
    normalise_reference,
    parse_c2b,
    parse_stk_callback,
    parse_transaction_status,
    validation_reject,
)
from connectors.mpesa.codes import PaymentState
from tests.mpesa import samples

NAIROBI = ZoneInfo("Africa/Nairobi")


def test_stk_success_becomes_a_paid_callback_with_typed_values() -> None:
    parsed = parse_stk_callback(samples.STK_SUCCESS)
    assert parsed.paid and parsed.meaning.state is PaymentState.PAID
    assert parsed.checkout_request_id == "ws_CO_191220191020363925"
    assert parsed.merchant_request_id == "29115-34620561-1"
    assert parsed.amount == Decimal("1.00")
    assert parsed.receipt == "NLJ7RT61SV"
    assert parsed.phone == "254708374149"
    assert parsed.transaction_date == datetime(2019, 12, 19, 10, 21, 15, tzinfo=NAIROBI)
    assert "Balance" not in parsed.metadata


def test_metadata_order_does_not_matter_and_balance_may_be_text() -> None:
    document = copy.deepcopy(samples.STK_SUCCESS)
    items = document["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items.reverse()
    items[2] = {"Name": "Balance", "Value": "{Amount={BasicAmount=46.00}}"}
    parsed = parse_stk_callback(document)
    assert parsed.receipt == "NLJ7RT61SV" and parsed.amount == Decimal("1.00")


def test_stk_cancelled_has_no_metadata() -> None:
    parsed = parse_stk_callback(samples.STK_CANCELLED)
    assert not parsed.paid
    assert parsed.result_code == "1032" and parsed.meaning.state is PaymentState.CANCELLED
    assert parsed.receipt is None and parsed.amount is None


def test_prefixed_descriptions_do_not_change_the_meaning() -> None:
    document = copy.deepcopy(samples.STK_CANCELLED)
    document["Body"]["stkCallback"]["ResultDesc"] = "[STK_CB - ]Request cancelled by user"
    assert parse_stk_callback(document).meaning.state is PaymentState.CANCELLED


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {},
        {"Body": {}},
        {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1"}}},
        {"Body": {"stkCallback": {"ResultCode": 0}}},
        # A "success" without a receipt is not something to credit.
        {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1", "ResultCode": 0}}},
        {
            "Body": {
                "stkCallback": {
                    "CheckoutRequestID": "ws_CO_1",
                    "ResultCode": 0,
                    "CallbackMetadata": {"Item": "nope"},
                }
            }
        },
    ],
)
def test_malformed_stk_callbacks_are_refused_with_a_reason(document: object) -> None:
    with pytest.raises(MalformedCallback):
        parse_stk_callback(document)


def test_c2b_notification() -> None:
    parsed = parse_c2b(samples.C2B)
    assert parsed.transaction_id == "RKTQDM7W6S"
    assert parsed.amount == Decimal("10.00") and parsed.org_balance == Decimal("49197.00")
    assert parsed.transaction_time == datetime(2019, 11, 22, 6, 38, 45, tzinfo=NAIROBI)
    assert parsed.bill_reference == "invoice008" and parsed.account_reference == "INVOICE008"
    assert parsed.msisdn == "25470****149" and parsed.name == "John"
    assert parsed.shortcode == "600638"


def test_c2b_validation_has_a_blank_balance() -> None:
    document = {**samples.C2B, "OrgAccountBalance": ""}
    assert parse_c2b(document).org_balance is None


def test_typed_account_references_are_compared_loosely() -> None:
    assert normalise_reference(" duka-db 1042 ") == "DUKADB1042"


@pytest.mark.parametrize(
    "change",
    [{"TransID": ""}, {"TransAmount": None}, {"TransAmount": "ten"}, {"TransTime": "yesterday"}],
)
def test_malformed_c2b_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(MalformedCallback):
        parse_c2b({**samples.C2B, **change})


def test_validation_answers() -> None:
    assert validation_reject("C2B00012") == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    with pytest.raises(ValueError):
        validation_reject("C2B99999")


def test_transaction_status_result() -> None:
    parsed = parse_transaction_status(samples.STATUS_RESULT)
    assert parsed.completed and not parsed.timed_out
    assert parsed.receipt == "MBN31H462N" and parsed.amount == Decimal("300")
    assert parsed.conversation_id == "AG_20180223_0000493344ae97d86f75"
    assert parsed.parameters["TransactionReason"] is None
    assert parsed.reference == {"Occasion": "INV-1042"}


def test_reference_items_may_be_a_list_and_keys_may_have_spaces() -> None:
    document = copy.deepcopy(samples.STATUS_RESULT)
    result = document["Result"]
    result["ReferenceData"]["ReferenceItem"] = [{"Key": "Occasion", "Value": "INV-1042"}]
    result["ResultParameters"]["ResultParameter"].append(
        {"Key": "Conversation ID", "Value": "AG_x"}
    )
    parsed = parse_transaction_status(document)
    assert parsed.reference == {"Occasion": "INV-1042"}
    assert parsed.parameters["ConversationID"] == "AG_x"


def test_transaction_status_timeout() -> None:
    parsed = parse_transaction_status(samples.STATUS_TIMEOUT)
    assert parsed.timed_out and not parsed.completed
    assert parsed.meaning.state is PaymentState.TIMEOUT


def test_malformed_result_is_refused() -> None:
    with pytest.raises(MalformedCallback):
        parse_transaction_status({"Result": {"ResultDesc": "x"}})
