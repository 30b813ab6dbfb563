"""Parsing what Daraja posts back: STK callbacks, C2B validation/confirmation, and the
Transaction Status result or timeout (reference §2.3, §3.3, §4).

Every parser takes the decoded JSON document and returns a frozen value, or raises
`MalformedCallback` saying what is missing. Types are normalised here once: result
codes to strings, amounts to Decimal, phones to digits, Kenya-time stamps (numbers or
strings) to aware datetimes. Item lists become dicts, since their order is not
guaranteed and items may lack a `Value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.mpesa.codes import ResultMeaning, meaning_of, normalise_code
from connectors.mpesa.requests import NAIROBI


class MalformedCallback(ValueError):
    """Not the shape Daraja sends: kept and flagged for staff, never applied."""


def kenya_time(value: object) -> datetime | None:
    """`20191219102115` (number or text, Kenya time) → an aware datetime; None if absent."""
    if value is None or value == "":
        return None
    text = normalise_code(value)
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
    except ValueError as error:
        raise MalformedCallback(f"{value!r} is not a YYYYMMDDHHmmss time") from error


def money(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise MalformedCallback(f"{value!r} is not an amount") from error
    if not amount.is_finite():
        raise MalformedCallback(f"{value!r} is not an amount")
    return amount


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = normalise_code(value)
    return text or None


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedCallback(f"{what} is missing or not an object")
    return value


def _required(document: Mapping[str, Any], key: str, what: str) -> str:
    value = _text(document.get(key))
    if value is None:
        raise MalformedCallback(f"{what} has no {key}")
    return value


def _pairs(items: object, name_key: str) -> dict[str, Any]:
    """`[{"Name": "Amount", "Value": 1}, {"Name": "Balance"}]` → {"Amount": 1, "Balance": None}.
    A single object instead of a list (seen for ReferenceItem) counts as a list of one."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        raise MalformedCallback(f"expected a list of {name_key}/Value items")
    pairs: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get(name_key), str):
            pairs[item[name_key]] = item.get("Value")
    return pairs


# ----- STK push callback --------------------------------------------------------------------


@dataclass(frozen=True)
class StkCallback:
    merchant_request_id: str
    checkout_request_id: str
    result_code: str
    result_desc: str
    meaning: ResultMeaning
    amount: Decimal | None = None
    receipt: str | None = None
    transaction_date: datetime | None = None
    phone: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.result_code == "0"


def parse_stk_callback(document: object) -> StkCallback:
    body = _mapping(_mapping(document, "the callback").get("Body"), "Body")
    callback = _mapping(body.get("stkCallback"), "Body.stkCallback")
    code = callback.get("ResultCode")
    if code is None or code == "":
        raise MalformedCallback("stkCallback has no ResultCode")
    result_code = normalise_code(code)
    description = str(callback.get("ResultDesc") or "")
    metadata_block = callback.get("CallbackMetadata")
    metadata = (
        _pairs(_mapping(metadata_block, "CallbackMetadata").get("Item"), "Name")
        if metadata_block is not None
        else {}
    )
    parsed = StkCallback(
        merchant_request_id=_text(callback.get("MerchantRequestID")) or "",
        checkout_request_id=_required(callback, "CheckoutRequestID", "stkCallback"),
        result_code=result_code,
        result_desc=description,
        meaning=meaning_of(result_code, description),
        amount=money(metadata.get("Amount")),
        receipt=_text(metadata.get("MpesaReceiptNumber")),
        transaction_date=kenya_time(metadata.get("TransactionDate")),
        phone=_text(metadata.get("PhoneNumber")),
        metadata={k: v for k, v in metadata.items() if k != "Balance"},
    )
    if parsed.paid and (parsed.receipt is None or parsed.amount is None):
        raise MalformedCallback("a successful stkCallback without a receipt or an amount")
    return parsed


# ----- C2B validation and confirmation ------------------------------------------------------


@dataclass(frozen=True)
class C2BPayment:
    """The same shape for validation and confirmation (reference §3.3)."""

    transaction_id: str  # TransID: the M-Pesa receipt, the idempotency key
    transaction_type: str
    transaction_time: datetime | None
    amount: Decimal
    shortcode: str
    bill_reference: str  # what the customer typed: expect typos, case, spaces
    invoice_number: str
    org_balance: Decimal | None
    third_party_id: str
    msisdn: str  # often masked (25470****149): never rely on it to find the contact
    name: str

    @property
    def account_reference(self) -> str:
        """The bill reference as matching compares it: upper case, no spaces or dashes."""
        return normalise_reference(self.bill_reference)


def normalise_reference(reference: str) -> str:
    return "".join(ch for ch in reference.upper() if ch.isalnum())


def parse_c2b(document: object) -> C2BPayment:
    payload = _mapping(document, "the C2B notification")
    amount = money(payload.get("TransAmount"))
    if amount is None:
        raise MalformedCallback("C2B notification has no TransAmount")
    names = (payload.get(k) for k in ("FirstName", "MiddleName", "LastName"))
    return C2BPayment(
        transaction_id=_required(payload, "TransID", "C2B notification"),
        transaction_type=str(payload.get("TransactionType") or ""),
        transaction_time=kenya_time(payload.get("TransTime")),
        amount=amount,
        shortcode=_text(payload.get("BusinessShortCode")) or "",
        bill_reference=str(payload.get("BillRefNumber") or "").strip(),
        invoice_number=str(payload.get("InvoiceNumber") or ""),
        org_balance=money(payload.get("OrgAccountBalance")),
        third_party_id=str(payload.get("ThirdPartyTransID") or ""),
        msisdn=_text(payload.get("MSISDN")) or "",
        name=" ".join(str(n).strip() for n in names if isinstance(n, str) and n.strip()),
    )


VALIDATION_ACCEPT: dict[str, str] = {"ResultCode": "0", "ResultDesc": "Accepted"}
CONFIRMATION_ACK: dict[str, Any] = {"ResultCode": 0, "ResultDesc": "Success"}
CALLBACK_ACK: dict[str, Any] = {"ResultCode": 0, "ResultDesc": "Accepted"}

REJECTIONS = {
    "C2B00011": "invalid MSISDN",
    "C2B00012": "invalid account number",
    "C2B00013": "invalid amount",
    "C2B00014": "invalid KYC details",
    "C2B00015": "invalid shortcode",
    "C2B00016": "other error",
}


def validation_reject(code: str) -> dict[str, str]:
    if code not in REJECTIONS:
        raise ValueError(f"{code!r} is not a C2B rejection code ({', '.join(REJECTIONS)})")
    return {"ResultCode": code, "ResultDesc": "Rejected"}


# ----- Transaction Status result / timeout --------------------------------------------------


@dataclass(frozen=True)
class TransactionStatusResult:
    result_type: str
    result_code: str
    result_desc: str
    meaning: ResultMeaning
    originator_conversation_id: str
    conversation_id: str
    transaction_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)

    @property
    def receipt(self) -> str | None:
        return _text(self.parameters.get("ReceiptNo")) or (self.transaction_id or None)

    @property
    def amount(self) -> Decimal | None:
        return money(self.parameters.get("Amount"))

    @property
    def status(self) -> str | None:
        return _text(self.parameters.get("TransactionStatus"))

    @property
    def completed(self) -> bool:
        """The lookup succeeded and the transaction it found is completed."""
        return self.result_code == "0" and (self.status or "").lower() == "completed"

    @property
    def timed_out(self) -> bool:
        """A QueueTimeOutURL answer: no parameters, a non-zero code (reference §4)."""
        return self.result_code != "0" and not self.parameters


def parse_transaction_status(document: object) -> TransactionStatusResult:
    result = _mapping(_mapping(document, "the result").get("Result"), "Result")
    code = result.get("ResultCode")
    if code is None or code == "":
        raise MalformedCallback("Result has no ResultCode")
    result_code = normalise_code(code)
    description = str(result.get("ResultDesc") or "")
    parameters_block = result.get("ResultParameters")
    parameters = (
        _pairs(_mapping(parameters_block, "ResultParameters").get("ResultParameter"), "Key")
        if parameters_block is not None
        else {}
    )
    # Some copies spell keys with a space ("Conversation ID"): one spelling.
    parameters = {key.replace(" ", ""): value for key, value in parameters.items()}
    reference_block = result.get("ReferenceData")
    reference = (
        _pairs(_mapping(reference_block, "ReferenceData").get("ReferenceItem"), "Key")
        if reference_block is not None
        else {}
    )
    return TransactionStatusResult(
        result_type=normalise_code(result.get("ResultType", "")),
        result_code=result_code,
        result_desc=description,
        meaning=meaning_of(result_code, description),
        originator_conversation_id=_text(result.get("OriginatorConversationID")) or "",
        conversation_id=_text(result.get("ConversationID")) or "",
        transaction_id=_text(result.get("TransactionID")) or "",
        parameters=parameters,
        reference=reference,
    )
