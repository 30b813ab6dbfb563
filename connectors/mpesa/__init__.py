"""M-Pesa Daraja connector: request bodies, the HTTP client, callback parsers, result codes,
and a simulator. Pure protocol code: nothing here knows about Kazi's database."""

from connectors.mpesa.callbacks import (
    C2BPayment,
    MalformedCallback,
    StkCallback,
    TransactionStatusResult,
    parse_c2b,
    parse_stk_callback,
    parse_transaction_status,
)
from connectors.mpesa.client import (
    Acknowledged,
    DarajaClient,
    DarajaError,
    StkPushAccepted,
    StkQueryAnswer,
    TokenCache,
    api_url,
)
from connectors.mpesa.codes import RESULT_CODES, PaymentState, ResultMeaning, meaning_of
from connectors.mpesa.phones import InvalidPhone, daraja_phone
from connectors.mpesa.requests import InvalidRequest, Merchant

__all__ = [
    "RESULT_CODES",
    "Acknowledged",
    "C2BPayment",
    "DarajaClient",
    "DarajaError",
    "InvalidPhone",
    "InvalidRequest",
    "MalformedCallback",
    "Merchant",
    "PaymentState",
    "ResultMeaning",
    "StkCallback",
    "StkPushAccepted",
    "StkQueryAnswer",
    "TokenCache",
    "TransactionStatusResult",
    "api_url",
    "daraja_phone",
    "meaning_of",
    "parse_c2b",
    "parse_stk_callback",
    "parse_transaction_status",
]
