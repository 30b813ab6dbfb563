"""The result-code table, phone normalisation and request bodies (reference §2, §3, §4, §8)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.mpesa.codes import RESULT_CODES, PaymentState, meaning_of
from connectors.mpesa.phones import InvalidPhone, daraja_phone
from connectors.mpesa.requests import (
    InvalidRequest,
    Merchant,
    password,
    register_urls_body,
    stk_push_body,
    stk_query_body,
    timestamp,
    transaction_status_body,
    whole_shillings,
)

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
NOON_NAIROBI = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # 12:00 EAT


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (0, PaymentState.PAID),
        ("0", PaymentState.PAID),
        (1, PaymentState.FAILED),
        (17, PaymentState.FAILED),
        (26, PaymentState.FAILED),
        (1001, PaymentState.FAILED),
        (1019, PaymentState.TIMEOUT),
        (1025, PaymentState.FAILED),
        (1032, PaymentState.CANCELLED),
        ("1032", PaymentState.CANCELLED),
        (1036, PaymentState.TIMEOUT),
        (1037, PaymentState.TIMEOUT),
        (2001, PaymentState.FAILED),
        (9999, PaymentState.FAILED),
        ("500.001.1001", PaymentState.PENDING),
    ],
)
def test_every_listed_code_has_a_state_and_a_message(code: object, state: PaymentState) -> None:
    meaning = meaning_of(code)
    assert meaning.state is state
    assert meaning.message and meaning.message.endswith((".", "!"))


def test_the_table_holds_every_code_the_reference_lists() -> None:
    listed = {"0", "1", "17", "26", "1001", "1019", "1025", "1032", "1036", "1037", "2001", "9999"}
    assert listed | {"500.001.1001"} <= set(RESULT_CODES)


def test_timeouts_say_reconcile_and_user_answers_do_not() -> None:
    assert meaning_of(1037).reconcile and meaning_of(1036).reconcile and meaning_of(1019).reconcile
    assert not meaning_of(1032).reconcile and not meaning_of(2001).reconcile


def test_an_unlisted_code_is_a_failure_keeping_its_code() -> None:
    meaning = meaning_of(4321, "[STK_CB - ]Something new")
    assert meaning.state is PaymentState.FAILED
    assert (
        meaning.code == "4321" and "4321" in meaning.message and "Something new" in meaning.message
    )


@pytest.mark.parametrize(
    "raw",
    ["0712345678", "0712 345 678", "+254712345678", "254712345678", "+254 712 345 678", 712345678],
)
def test_kenyan_mobile_numbers_become_twelve_digits(raw: str | int) -> None:
    assert daraja_phone(raw) == "254712345678"


def test_the_newer_01_prefix_and_the_sandbox_msisdn() -> None:
    assert daraja_phone("0112345678") == "254112345678"
    assert daraja_phone(254708374149) == "254708374149"


@pytest.mark.parametrize("raw", ["", "hello", "+14155550100", "0201234567", "07123"])
def test_other_numbers_are_refused_not_cut(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        daraja_phone(raw)


def test_timestamp_is_nairobi_time_and_the_password_is_plain_base64() -> None:
    stamp = timestamp(NOON_NAIROBI)
    assert stamp == "20260101120000"
    expected = base64.b64encode(f"174379{SANDBOX_PASSKEY}{stamp}".encode()).decode()
    assert password("174379", SANDBOX_PASSKEY, stamp) == expected
    # The reference's sample request carries exactly this password for this instant.
    assert expected == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGEx"
        "ZWQyYzkxOTIwMjYwMTAxMTIwMDAw"
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        timestamp(datetime(2026, 1, 1, 12))


def test_paybill_push_matches_the_reference_request() -> None:
    body = stk_push_body(
        Merchant("174379", SANDBOX_PASSKEY),
        phone="0712345678",
        amount=Decimal("1200.00"),
        callback_url="https://crm.example.com/hooks/stk/7f3c9a1e2b",
        account_reference="INV-1042",
        description="Order 1042",
        now=NOON_NAIROBI,
    )
    assert body == {
        "BusinessShortCode": "174379",
        "Password": password("174379", SANDBOX_PASSKEY, "20260101120000"),
        "Timestamp": "20260101120000",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1200,
        "PartyA": "254712345678",
        "PartyB": "174379",
        "PhoneNumber": "254712345678",
        "CallBackURL": "https://crm.example.com/hooks/stk/7f3c9a1e2b",
        "AccountReference": "INV-1042",
        "TransactionDesc": "Order 1042",
    }


def test_till_push_buys_goods_and_pays_the_till() -> None:
    body = stk_push_body(
        Merchant("5123874", "key", kind="till", till_number="8765432"),
        phone="+254712345678",
        amount=23500,
        callback_url="https://x/cb",
        account_reference="DUKA-DB-1042-long-reference",
        description="A description longer than thirteen",
        now=NOON_NAIROBI,
    )
    assert body["TransactionType"] == "CustomerBuyGoodsOnline"
    assert body["BusinessShortCode"] == "5123874" and body["PartyB"] == "8765432"
    assert len(body["AccountReference"]) == 12 and len(body["TransactionDesc"]) == 13


def test_amounts_are_whole_shillings_rounded_up_and_never_empty() -> None:
    assert whole_shillings("1200.00") == 1200
    assert whole_shillings(Decimal("99.01")) == 100
    for bad in ("0", "-5", "NaN"):
        with pytest.raises(InvalidRequest):
            whole_shillings(bad)


def test_query_register_and_status_bodies() -> None:
    query = stk_query_body(Merchant("174379", "k"), "ws_CO_1", NOON_NAIROBI)
    assert query["CheckoutRequestID"] == "ws_CO_1"
    assert query["Password"] == password("174379", "k", query["Timestamp"])
    register = register_urls_body(
        "600000", confirmation_url="https://c", validation_url="https://v"
    )
    assert register == {
        "ShortCode": "600000",
        "ResponseType": "Completed",
        "ConfirmationURL": "https://c",
        "ValidationURL": "https://v",
    }
    status = transaction_status_body(
        initiator="testapi",
        security_credential="blob",
        transaction_id="NLJ7RT61SV",
        party_a="600999",
        result_url="https://r",
        timeout_url="https://t",
        occasion="INV-1042",
    )
    assert status["CommandID"] == "TransactionStatusQuery"
    assert status["IdentifierType"] == "4" and status["QueueTimeOutURL"] == "https://t"
    with pytest.raises(InvalidRequest):
        transaction_status_body(
            initiator="a",
            security_credential="b",
            transaction_id="",
            party_a="1",
            result_url="r",
            timeout_url="t",
        )
