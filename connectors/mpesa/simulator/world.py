"""A simulated Daraja: tokens, STK pushes and what each simulated customer does with them.

The world is synchronous and decides everything; the app (app.py) only turns its
answers into HTTP and posts the callbacks it asks for, after their delay. What a
customer does with the next push is an *outcome*, queued through the control API
(`POST /_sim/outcomes`) or the default:

- `success`: pays; the callback says 0 with a receipt.
- `cancel` (1032), `timeout` (1037), `wrong-pin` (2001), `insufficient` (1): the
  failure callback, and STK Query answers the same code.
- `duplicate`: pays; the success callback is posted twice.
- `late`: pays; the callback comes `late_seconds` later (STK Query knows at once).
- `no-callback`: pays; no callback at all, only STK Query tells.
- `processing`: the customer has not answered yet; STK Query says 500.001.1001 until
  `POST /_sim/pushes/{checkout}/complete` settles it.
- `mismatch`: pays, but the callback claims another amount.
- `fail-then-success`: a 1037 callback, then a success callback for the same push.

Faults (`POST /_sim/faults`): `500:N` (the next N API calls answer 500) and
`oauth-expiry` (every token handed out so far stops working, so the next call gets 401).
"""

from __future__ import annotations

import base64
import itertools
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")

OUTCOMES = (
    "success",
    "cancel",
    "timeout",
    "wrong-pin",
    "insufficient",
    "duplicate",
    "late",
    "no-callback",
    "processing",
    "mismatch",
    "fail-then-success",
)
FAILURE_CODES = {
    "cancel": (1032, "Request cancelled by user"),
    "timeout": (1037, "DS timeout user cannot be reached"),
    "wrong-pin": (2001, "The initiator information is invalid."),
    "insufficient": (1, "The balance is insufficient for the transaction."),
}
PAID = (0, "The service request is processed successfully.")


class OutcomeError(ValueError):
    """Not one of OUTCOMES."""


@dataclass(frozen=True)
class SimulatorConfig:
    consumer_key: str = "kazi-sim-key"
    consumer_secret: str = "kazi-sim-secret"
    passkeys: dict[str, str] = field(default_factory=dict)  # shortcode -> passkey; empty: any
    token_seconds: int = 3599
    callback_delay: float = 0.2  # seconds before a callback is posted
    late_seconds: float = 5.0
    default_outcome: str = "success"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Callback:
    url: str
    body: dict[str, Any]
    delay: float


@dataclass
class Push:
    checkout_request_id: str
    merchant_request_id: str
    request: dict[str, Any]
    outcome: str
    result_code: int | None = None  # None while the customer has not answered
    result_desc: str = ""
    receipt: str | None = None
    callbacks: int = 0

    @property
    def amount(self) -> int:
        return int(self.request.get("Amount", 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkout_request_id": self.checkout_request_id,
            "merchant_request_id": self.merchant_request_id,
            "phone": self.request.get("PhoneNumber"),
            "amount": self.amount,
            "account_reference": self.request.get("AccountReference"),
            "callback_url": self.request.get("CallBackURL"),
            "outcome": self.outcome,
            "result_code": self.result_code,
            "receipt": self.receipt,
            "callbacks": self.callbacks,
        }


@dataclass
class Faults:
    http_500: int = 0
    oauth_expiry: bool = False

    def describe(self) -> str:
        parts = [f"500:{self.http_500}"] if self.http_500 else []
        return ",".join([*parts, *(["oauth-expiry"] if self.oauth_expiry else [])]) or "none"


def parse_faults(spec: str, faults: Faults | None = None) -> Faults:
    faults = faults or Faults()
    for part in (p.strip() for p in spec.split(",")):
        if not part or part == "none":
            continue
        name, _, count = part.partition(":")
        if name == "500" and count.isdigit():
            faults.http_500 = int(count)
        elif name == "oauth-expiry" and not count:
            faults.oauth_expiry = True
        else:
            raise OutcomeError(f"{part!r}: faults are 500:N and oauth-expiry")
    return faults


class DarajaWorld:
    def __init__(self, config: SimulatorConfig, seed: int | None = None) -> None:
        self.config = config
        self.faults = Faults()
        self._random = random.Random(seed)
        self._tokens: dict[str, float] = {}  # token -> expiry (POSIX seconds)
        self._outcomes: list[str] = []
        self.pushes: dict[str, Push] = {}
        self.c2b_urls: dict[str, dict[str, str]] = {}  # shortcode -> confirmation/validation
        self.status_queries: list[dict[str, Any]] = []
        self.c2b_payments: dict[str, int] = {}  # receipt -> whole amount
        self._ids = itertools.count(1)

    # ----- control -----------------------------------------------------------------------
    def queue_outcomes(self, outcomes: list[str]) -> None:
        for outcome in outcomes:
            if outcome not in OUTCOMES:
                raise OutcomeError(f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
        self._outcomes.extend(outcomes)

    def state(self) -> dict[str, Any]:
        return {
            "pushes": [p.as_dict() for p in self.pushes.values()],
            "queued_outcomes": list(self._outcomes),
            "faults": self.faults.describe(),
            "c2b_urls": self.c2b_urls,
            "status_queries": self.status_queries,
        }

    # ----- OAuth -------------------------------------------------------------------------
    def token(self, authorization: str | None, now: float) -> Answer:
        expected = base64.b64encode(
            f"{self.config.consumer_key}:{self.config.consumer_secret}".encode()
        ).decode()
        if authorization != f"Basic {expected}":
            return Answer(400, _error("400.008.01", "Invalid Authentication passed"))
        token = "".join(self._random.choices(string.ascii_letters + string.digits, k=28))
        self._tokens[token] = now + self.config.token_seconds
        return Answer(200, {"access_token": token, "expires_in": str(self.config.token_seconds)})

    def _authorised(self, authorization: str | None, now: float) -> Answer | None:
        if self.faults.oauth_expiry:
            self.faults.oauth_expiry = False
            self._tokens.clear()
        token = (authorization or "").removeprefix("Bearer ")
        if self._tokens.get(token, 0) <= now:
            return Answer(401, _error("404.001.03", "Invalid Access Token"))
        if self.faults.http_500 > 0:
            self.faults.http_500 -= 1
            return Answer(500, _error("500.003.02", "System is busy. Please try again later."))
        return None

    # ----- STK push ----------------------------------------------------------------------
    def push(
        self, authorization: str | None, body: dict[str, Any], now: float
    ) -> tuple[Answer, list[Callback]]:
        refused = self._authorised(authorization, now)
        if refused is not None:
            return refused, []
        problem = self._check_push(body)
        if problem is not None:
            return Answer(400, _error("400.002.02", f"Bad Request - {problem}")), []
        number = next(self._ids)
        push = Push(
            checkout_request_id=f"ws_CO_{number:06d}{self._digits(12)}",
            merchant_request_id=f"{self._digits(5)}-{self._digits(8)}-{number}",
            request=dict(body),
            outcome=self._outcomes.pop(0) if self._outcomes else self.config.default_outcome,
        )
        self.pushes[push.checkout_request_id] = push
        answer = Answer(
            200,
            {
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            },
        )
        return answer, self._settle(push, push.outcome)

    def complete(self, checkout_request_id: str, outcome: str) -> list[Callback]:
        """The customer answers a push left `processing`."""
        push = self.pushes.get(checkout_request_id)
        if push is None:
            raise KeyError(checkout_request_id)
        if outcome not in OUTCOMES or outcome == "processing":
            raise OutcomeError(f"{outcome!r} cannot complete a push")
        push.outcome = outcome
        return self._settle(push, outcome)

    def _settle(self, push: Push, outcome: str) -> list[Callback]:
        delay = self.config.callback_delay
        if outcome == "processing":
            return []
        if outcome in FAILURE_CODES:
            push.result_code, push.result_desc = FAILURE_CODES[outcome]
            return [self._callback(push, delay)]
        push.result_code, push.result_desc = PAID
        push.receipt = self._receipt()
        if outcome == "duplicate":
            return [self._callback(push, delay), self._callback(push, delay + 0.05)]
        if outcome == "late":
            return [self._callback(push, self.config.late_seconds)]
        if outcome == "no-callback":
            return []
        if outcome == "mismatch":
            return [self._callback(push, delay, amount=max(1, push.amount - 1))]
        if outcome == "fail-then-success":
            failed = self._callback(push, delay, code=FAILURE_CODES["timeout"])
            return [failed, self._callback(push, delay + 0.3)]
        return [self._callback(push, delay)]

    def _callback(
        self,
        push: Push,
        delay: float,
        *,
        amount: int | None = None,
        code: tuple[int, str] | None = None,
    ) -> Callback:
        push.callbacks += 1
        result_code, result_desc = code or (push.result_code or 0, push.result_desc)
        callback: dict[str, Any] = {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResultCode": result_code,
            "ResultDesc": result_desc,
        }
        if result_code == 0:
            callback["CallbackMetadata"] = {
                "Item": [
                    {"Name": "Amount", "Value": float(amount or push.amount)},
                    {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                    {"Name": "Balance"},
                    {"Name": "TransactionDate", "Value": int(_kenya_stamp())},
                    {"Name": "PhoneNumber", "Value": int(push.request.get("PhoneNumber", 0))},
                ]
            }
        return Callback(
            str(push.request.get("CallBackURL")), {"Body": {"stkCallback": callback}}, delay
        )

    def query(self, authorization: str | None, body: dict[str, Any], now: float) -> Answer:
        refused = self._authorised(authorization, now)
        if refused is not None:
            return refused
        push = self.pushes.get(str(body.get("CheckoutRequestID")))
        if push is None:
            return Answer(400, _error("400.002.02", "Bad Request - Invalid CheckoutRequestID"))
        if push.result_code is None:
            return Answer(
                500,
                {
                    "requestId": push.checkout_request_id,
                    "errorCode": "500.001.1001",
                    "errorMessage": "The transaction is being processed",
                },
            )
        return Answer(
            200,
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResultCode": str(push.result_code),
                "ResultDesc": push.result_desc,
            },
        )

    # ----- C2B ---------------------------------------------------------------------------
    def register_urls(self, authorization: str | None, body: dict[str, Any], now: float) -> Answer:
        refused = self._authorised(authorization, now)
        if refused is not None:
            return refused
        self.c2b_urls[str(body.get("ShortCode"))] = {
            "confirmation": str(body.get("ConfirmationURL")),
            "validation": str(body.get("ValidationURL")),
        }
        return Answer(
            200,
            {
                "OriginatorCoversationID": f"{self._digits(4)}-{self._digits(8)}-1",
                "ResponseCode": "0",
                "ResponseDescription": "success",
            },
        )

    def c2b_simulate(
        self, authorization: str | None, body: dict[str, Any], now: float
    ) -> tuple[Answer, list[Callback]]:
        refused = self._authorised(authorization, now)
        if refused is not None:
            return refused, []
        urls = self.c2b_urls.get(str(body.get("ShortCode")))
        if urls is None:
            return Answer(400, _error("400.002.02", "Bad Request - Invalid ShortCode")), []
        command = str(body.get("CommandID", "CustomerPayBillOnline"))
        receipt = self._receipt()
        self.c2b_payments[receipt] = int(Decimal(str(body.get("Amount", 0))))
        notification = {
            "TransactionType": "Pay Bill" if command == "CustomerPayBillOnline" else "Buy Goods",
            "TransID": receipt,
            "TransTime": _kenya_stamp(),
            "TransAmount": f"{Decimal(str(body.get('Amount', 0))):.2f}",
            "BusinessShortCode": str(body.get("ShortCode")),
            "BillRefNumber": str(body.get("BillRefNumber") or ""),
            "InvoiceNumber": "",
            "OrgAccountBalance": "49197.00",
            "ThirdPartyTransID": "",
            "MSISDN": _masked(str(body.get("Msisdn", ""))),
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "",
        }
        answer = Answer(
            200,
            {
                "OriginatorCoversationID": f"{self._digits(5)}-{self._digits(8)}-1",
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
        return answer, [Callback(urls["confirmation"], notification, self.config.callback_delay)]

    # ----- Transaction Status ------------------------------------------------------------
    def transaction_status(
        self, authorization: str | None, body: dict[str, Any], now: float
    ) -> tuple[Answer, list[Callback]]:
        refused = self._authorised(authorization, now)
        if refused is not None:
            return refused, []
        self.status_queries.append(dict(body))
        conversation = f"AG_{datetime.now(UTC):%Y%m%d}_{self._digits(20)}"
        originator = f"{self._digits(4)}-{self._digits(6)}-1"
        receipt = str(body.get("TransactionID", ""))
        push = next((p for p in self.pushes.values() if p.receipt == receipt), None)
        amount = push.amount if push is not None else self.c2b_payments.get(receipt)
        result: dict[str, Any] = {
            "ResultType": 0,
            "OriginatorConversationID": originator,
            "ConversationID": conversation,
            "TransactionID": receipt,
        }
        if amount is None:
            result |= {"ResultCode": 2001, "ResultDesc": "The transaction was not found."}
        else:
            result |= {
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "ResultParameters": {
                    "ResultParameter": [
                        {"Key": "TransactionStatus", "Value": "Completed"},
                        {"Key": "Amount", "Value": amount},
                        {"Key": "ReceiptNo", "Value": receipt},
                        {"Key": "FinalisedTime", "Value": int(_kenya_stamp())},
                    ]
                },
                "ReferenceData": {
                    "ReferenceItem": {"Key": "Occasion", "Value": body.get("Occasion", "")}
                },
            }
        answer = Answer(
            200,
            {
                "OriginatorConversationID": originator,
                "ConversationID": conversation,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
        callback = Callback(
            str(body.get("ResultURL")), {"Result": result}, self.config.callback_delay
        )
        return answer, [callback]

    # ----- helpers -----------------------------------------------------------------------
    def _check_push(self, body: dict[str, Any]) -> str | None:
        for key in ("BusinessShortCode", "Password", "Timestamp", "Amount", "PhoneNumber"):
            if key not in body:
                return f"missing {key}"
        shortcode = str(body["BusinessShortCode"])
        passkey = self.config.passkeys.get(shortcode)
        if passkey is not None:
            expected = base64.b64encode(f"{shortcode}{passkey}{body['Timestamp']}".encode())
            if body["Password"] != expected.decode():
                return "Invalid Password"
        if not isinstance(body["Amount"], int) or body["Amount"] <= 0:
            return "Invalid Amount"
        phone = str(body["PhoneNumber"])
        if not (phone.isdigit() and len(phone) == 12 and phone.startswith("254")):
            return "Invalid PhoneNumber"
        if not str(body.get("CallBackURL", "")).startswith(("http://", "https://")):
            return "Invalid CallBackURL"
        return None

    def _digits(self, count: int) -> str:
        return "".join(self._random.choices(string.digits, k=count))

    def _receipt(self) -> str:
        return "".join(self._random.choices(string.ascii_uppercase + string.digits, k=10))


def _error(code: str, message: str) -> dict[str, Any]:
    return {"requestId": "sim-request", "errorCode": code, "errorMessage": message}


def _kenya_stamp() -> str:
    return datetime.now(NAIROBI).strftime("%Y%m%d%H%M%S")


def _masked(msisdn: str) -> str:
    return f"{msisdn[:5]}****{msisdn[-3:]}" if len(msisdn) >= 9 else msisdn
