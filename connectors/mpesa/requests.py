"""Request bodies for Daraja, built from plain values (reference §2.1, §2.5, §3.1, §4).

Pure: the caller passes the instant; the timestamp is Kenya time because the
password is computed over it and Safaricom expects EAT (reference §2.1).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from connectors.mpesa.phones import daraja_phone

NAIROBI = ZoneInfo("Africa/Nairobi")

PAYBILL: Literal["paybill"] = "paybill"
TILL: Literal["till"] = "till"
TRANSACTION_TYPES = {PAYBILL: "CustomerPayBillOnline", TILL: "CustomerBuyGoodsOnline"}

ACCOUNT_REFERENCE_LIMIT = 12
DESCRIPTION_LIMIT = 13


class InvalidRequest(ValueError):
    """A value Daraja would refuse; said before anything is sent."""


@dataclass(frozen=True)
class Merchant:
    """Who is paid: the shortcode the passkey belongs to, and for a till its till number."""

    shortcode: str
    passkey: str
    kind: Literal["paybill", "till"] = PAYBILL
    till_number: str | None = None

    @property
    def party_b(self) -> str:
        return self.till_number if self.kind == TILL and self.till_number else self.shortcode


def timestamp(now: datetime) -> str:
    """`YYYYMMDDHHmmss` in Africa/Nairobi."""
    if now.tzinfo is None:
        raise ValueError("timestamp needs an aware datetime")
    return now.astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")


def password(shortcode: str, passkey: str, stamp: str) -> str:
    """base64(shortcode + passkey + timestamp): plain concatenation, no hashing."""
    return base64.b64encode(f"{shortcode}{passkey}{stamp}".encode()).decode("ascii")


def whole_shillings(amount: Decimal | int | str) -> int:
    """Daraja takes whole numbers. A fraction is rounded up, never down, so the
    customer is never asked for less than the order; zero or less is refused."""
    value = Decimal(str(amount))
    if not value.is_finite() or value <= 0:
        raise InvalidRequest(f"amount {amount!r} is not a positive number")
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def stk_push_body(
    merchant: Merchant,
    *,
    phone: str,
    amount: Decimal | int | str,
    callback_url: str,
    account_reference: str,
    description: str,
    now: datetime,
) -> dict[str, Any]:
    stamp = timestamp(now)
    payer = daraja_phone(phone)
    reference = account_reference.strip()
    if not reference:
        raise InvalidRequest("an account reference is required")
    return {
        "BusinessShortCode": merchant.shortcode,
        "Password": password(merchant.shortcode, merchant.passkey, stamp),
        "Timestamp": stamp,
        "TransactionType": TRANSACTION_TYPES[merchant.kind],
        "Amount": whole_shillings(amount),
        "PartyA": payer,
        "PartyB": merchant.party_b,
        "PhoneNumber": payer,
        "CallBackURL": callback_url,
        "AccountReference": reference[:ACCOUNT_REFERENCE_LIMIT],
        "TransactionDesc": (description.strip() or reference)[:DESCRIPTION_LIMIT],
    }


def stk_query_body(merchant: Merchant, checkout_request_id: str, now: datetime) -> dict[str, Any]:
    stamp = timestamp(now)
    return {
        "BusinessShortCode": merchant.shortcode,
        "Password": password(merchant.shortcode, merchant.passkey, stamp),
        "Timestamp": stamp,
        "CheckoutRequestID": checkout_request_id,
    }


def register_urls_body(
    shortcode: str,
    *,
    confirmation_url: str,
    validation_url: str,
    response_type: Literal["Completed", "Cancelled"] = "Completed",
) -> dict[str, Any]:
    return {
        "ShortCode": shortcode,
        "ResponseType": response_type,
        "ConfirmationURL": confirmation_url,
        "ValidationURL": validation_url,
    }


def transaction_status_body(
    *,
    initiator: str,
    security_credential: str,
    transaction_id: str,
    party_a: str,
    result_url: str,
    timeout_url: str,
    identifier_type: str = "4",
    remarks: str = "reconcile",
    occasion: str = "",
) -> dict[str, Any]:
    if not transaction_id:
        raise InvalidRequest("a transaction id (receipt) is required")
    return {
        "Initiator": initiator,
        "SecurityCredential": security_credential,
        "CommandID": "TransactionStatusQuery",
        "TransactionID": transaction_id,
        "OriginalConversationID": "",
        "PartyA": party_a,
        "IdentifierType": identifier_type,
        "ResultURL": result_url,
        "QueueTimeOutURL": timeout_url,
        "Remarks": remarks,
        "Occasion": occasion,
    }
