"""What a Daraja result code means for a payment, in words staff understand.

Reference §2.4 (STK result codes, third-party consensus) and §1.1 (synchronous
error envelope). The table is data: the engine reads the state and the message,
never the provider's `ResultDesc`, whose wording varies and carries prefixes.
A code not in the table is `failed` with its code kept (reference §2.4: "treat any
other non-zero code as failed-with-code").
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.payments import PaymentState


@dataclass(frozen=True)
class ResultMeaning:
    code: str
    state: PaymentState
    message: str  # for staff, in plain words
    retry_allowed: bool = False  # may the customer be asked again?
    reconcile: bool = False  # money may have moved: query before anything else


SUCCESS = "0"
IN_PROGRESS = "500.001.1001"

_TABLE: tuple[ResultMeaning, ...] = (
    ResultMeaning(SUCCESS, PaymentState.PAID, "Paid."),
    ResultMeaning(
        "1",
        PaymentState.FAILED,
        "The customer's M-Pesa balance (and Fuliza) was too low; they can top up and try again.",
        retry_allowed=True,
    ),
    ResultMeaning(
        "17",
        PaymentState.FAILED,
        "M-Pesa could not process the payment just now; try again in a minute.",
        retry_allowed=True,
    ),
    ResultMeaning(
        "26", PaymentState.FAILED, "M-Pesa was busy; try again shortly.", retry_allowed=True
    ),
    ResultMeaning(
        "1001",
        PaymentState.FAILED,
        "The customer's phone was busy with another M-Pesa or USSD session; "
        "try again in a few minutes.",
        retry_allowed=True,
    ),
    ResultMeaning(
        "1019",
        PaymentState.TIMEOUT,
        "The prompt expired before the customer answered it.",
        retry_allowed=True,
        reconcile=True,
    ),
    ResultMeaning(
        "1025",
        PaymentState.FAILED,
        "M-Pesa could not send the prompt to the phone; try again later.",
        retry_allowed=True,
    ),
    ResultMeaning("1032", PaymentState.CANCELLED, "The customer cancelled the M-Pesa prompt."),
    ResultMeaning(
        "1036",
        PaymentState.TIMEOUT,
        "M-Pesa lost contact with the phone; whether the customer paid is being checked.",
        reconcile=True,
    ),
    ResultMeaning(
        "1037",
        PaymentState.TIMEOUT,
        "The customer's phone could not be reached (off or no signal); "
        "whether they paid is being checked.",
        retry_allowed=True,
        reconcile=True,
    ),
    ResultMeaning(
        "2001",
        PaymentState.FAILED,
        "The customer entered a wrong M-Pesa PIN; they can try again.",
        retry_allowed=True,
    ),
    ResultMeaning(
        "9999",
        PaymentState.FAILED,
        "M-Pesa could not send the prompt; try again later.",
        retry_allowed=True,
    ),
    ResultMeaning(
        IN_PROGRESS,
        PaymentState.PENDING,
        "M-Pesa is still processing this payment (or the phone is busy with another one).",
        reconcile=True,
    ),
)

RESULT_CODES: dict[str, ResultMeaning] = {meaning.code: meaning for meaning in _TABLE}


def normalise_code(code: object) -> str:
    """Result codes come as integers in callbacks and strings in query answers: one form."""
    if isinstance(code, bool):
        return str(int(code))
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code).strip()


def meaning_of(code: object, description: str | None = None) -> ResultMeaning:
    """The meaning of a result code; any code not listed is a failure that keeps its code."""
    key = normalise_code(code)
    known = RESULT_CODES.get(key)
    if known is not None:
        return known
    said = f" ({description.strip()})" if description and description.strip() else ""
    return ResultMeaning(key, PaymentState.FAILED, f"M-Pesa refused the payment: code {key}{said}.")
