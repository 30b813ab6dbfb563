"""`DarajaClient`: the Daraja HTTP API with httpx (reference §1 to §4).

- The OAuth token is cached until `TOKEN_MARGIN` before it expires; a 401 (or the
  "Invalid Access Token" error codes) drops it, fetches one new token and repeats
  the call once.
- A failure is a `DarajaError`: `retryable` says whether trying again is safe and
  sensible; `maybe_sent` says the request may have reached Safaricom (a timeout after
  sending), so a push must be *queried*, never re-sent blindly.
- Follows no redirects, times out.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import httpx

from connectors.mpesa.codes import IN_PROGRESS, ResultMeaning, meaning_of, normalise_code
from connectors.mpesa.requests import (
    Merchant,
    register_urls_body,
    stk_push_body,
    stk_query_body,
    transaction_status_body,
)
from engine.core.clock import Clock, SystemClock

PRODUCTION_URL = "https://api.safaricom.co.ke"
SANDBOX_URL = "https://sandbox.safaricom.co.ke"
API_URL_VARIABLE = "KAZI_MPESA_API_URL"

TOKEN_PATH = "/oauth/v1/generate?grant_type=client_credentials"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
REGISTER_PATH = "/mpesa/c2b/v1/registerurl"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"

TOKEN_MARGIN = timedelta(seconds=60)
INVALID_TOKEN_CODES = frozenset({"404.001.03", "401.002.01"})


def api_url(environment: str | None, env: Mapping[str, str]) -> str:
    """`KAZI_MPESA_API_URL` when set (tests, the demo's simulator), else by environment."""
    override = env.get(API_URL_VARIABLE, "").strip()
    if override:
        return override.rstrip("/")
    return SANDBOX_URL if (environment or "").lower() == "sandbox" else PRODUCTION_URL


class DarajaError(Exception):
    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        retryable: bool,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.retryable = retryable
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class StkPushAccepted:
    """The push was accepted for processing. Not a payment (reference §2.2)."""

    merchant_request_id: str
    checkout_request_id: str
    customer_message: str


@dataclass(frozen=True)
class StkQueryAnswer:
    """What STK Query says. `in_progress`: the customer has not finished (500.001.1001).
    No receipt, amount or phone ever comes in a query answer (reference §2.5)."""

    checkout_request_id: str
    result_code: str
    result_desc: str
    meaning: ResultMeaning

    @property
    def in_progress(self) -> bool:
        return self.result_code == IN_PROGRESS


@dataclass(frozen=True)
class Acknowledged:
    """Register URLs or Transaction Status accepted; the result of the latter comes later."""

    conversation_id: str
    originator_conversation_id: str
    description: str


class TokenCache:
    """One token per app, shared by the client's threads."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.expires_at: datetime | None = None
        self.lock = threading.Lock()


class DarajaClient:
    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        clock: Clock | None = None,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
        self._clock = clock or SystemClock()
        self._tokens = tokens or TokenCache()
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    # ----- OAuth -------------------------------------------------------------------------
    def access_token(self) -> str:
        with self._tokens.lock:
            now = self._clock.now()
            cached = self._tokens
            if cached.token and cached.expires_at and now < cached.expires_at - TOKEN_MARGIN:
                return cached.token
            token, lifetime = self._fetch_token()
            cached.token, cached.expires_at = token, now + timedelta(seconds=lifetime)
            return token

    def _forget_token(self, token: str) -> None:
        with self._tokens.lock:
            if self._tokens.token == token:
                self._tokens.token = self._tokens.expires_at = None

    def _fetch_token(self) -> tuple[str, int]:
        response = self._send("GET", TOKEN_PATH, None, f"Basic {self._basic}", idempotent=True)
        if response.status_code != 200:
            raise _error(response, "M-Pesa refused the app's consumer key/secret")
        document = _json(response)
        token = document.get("access_token")
        try:
            lifetime = int(str(document.get("expires_in", "0")))
        except ValueError:
            lifetime = 0
        if not isinstance(token, str) or not token:
            raise DarajaError("M-Pesa's token answer has no access_token", retryable=True)
        return token, max(lifetime, 1)

    # ----- calls -------------------------------------------------------------------------
    def stk_push(
        self,
        merchant: Merchant,
        *,
        phone: str,
        amount: Decimal | int | str,
        callback_url: str,
        account_reference: str,
        description: str,
    ) -> StkPushAccepted:
        body = stk_push_body(
            merchant,
            phone=phone,
            amount=amount,
            callback_url=callback_url,
            account_reference=account_reference,
            description=description,
            now=self._clock.now(),
        )
        document = self._call(STK_PUSH_PATH, body, idempotent=False)
        if normalise_code(document.get("ResponseCode", "")) != "0":
            raise DarajaError(
                f"M-Pesa did not accept the push: {document.get('ResponseDescription')}",
                error_code=normalise_code(document.get("ResponseCode", "")),
                retryable=False,
            )
        checkout = str(document.get("CheckoutRequestID") or "")
        if not checkout:
            raise DarajaError(
                "M-Pesa accepted the push without a CheckoutRequestID",
                retryable=False,
                maybe_sent=True,
            )
        return StkPushAccepted(
            merchant_request_id=str(document.get("MerchantRequestID") or ""),
            checkout_request_id=checkout,
            customer_message=str(document.get("CustomerMessage") or ""),
        )

    def stk_query(self, merchant: Merchant, checkout_request_id: str) -> StkQueryAnswer:
        body = stk_query_body(merchant, checkout_request_id, self._clock.now())
        try:
            document = self._call(STK_QUERY_PATH, body, idempotent=True)
        except DarajaError as error:
            if error.error_code == IN_PROGRESS:
                # "The transaction is being processed": normal, it means pending.
                return StkQueryAnswer(
                    checkout_request_id, IN_PROGRESS, error.message, meaning_of(IN_PROGRESS)
                )
            raise
        code = document.get("ResultCode")
        if code is None:
            raise DarajaError("STK Query answered without a ResultCode", retryable=True)
        result_code = normalise_code(code)
        description = str(document.get("ResultDesc") or "")
        return StkQueryAnswer(
            str(document.get("CheckoutRequestID") or checkout_request_id),
            result_code,
            description,
            meaning_of(result_code, description),
        )

    def register_urls(
        self,
        shortcode: str,
        *,
        confirmation_url: str,
        validation_url: str,
        response_type: Literal["Completed", "Cancelled"] = "Completed",
    ) -> Acknowledged:
        body = register_urls_body(
            shortcode,
            confirmation_url=confirmation_url,
            validation_url=validation_url,
            response_type=response_type,
        )
        document = self._call(REGISTER_PATH, body, idempotent=True)
        return _acknowledged(document, "register URLs")

    def transaction_status(
        self,
        *,
        initiator: str,
        security_credential: str,
        transaction_id: str,
        party_a: str,
        result_url: str,
        timeout_url: str,
        identifier_type: str = "4",
        occasion: str = "",
    ) -> Acknowledged:
        body = transaction_status_body(
            initiator=initiator,
            security_credential=security_credential,
            transaction_id=transaction_id,
            party_a=party_a,
            result_url=result_url,
            timeout_url=timeout_url,
            identifier_type=identifier_type,
            occasion=occasion,
        )
        document = self._call(STATUS_PATH, body, idempotent=True)
        return _acknowledged(document, "Transaction Status")

    def close(self) -> None:
        self._client.close()

    # ----- plumbing ----------------------------------------------------------------------
    def _call(self, path: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        token = self.access_token()
        response = self._send("POST", path, body, f"Bearer {token}", idempotent=idempotent)
        if _token_refused(response):
            self._forget_token(token)
            token = self.access_token()
            response = self._send("POST", path, body, f"Bearer {token}", idempotent=idempotent)
        if response.status_code != 200:
            raise _error(response, f"M-Pesa refused {path}")
        return _json(response)

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        authorization: str,
        *,
        idempotent: bool,
    ) -> httpx.Response:
        try:
            return self._client.request(
                method, self.base_url + path, json=body, headers={"Authorization": authorization}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise DarajaError(f"could not reach M-Pesa: {error!r}", retryable=True) from error
        except httpx.HTTPError as error:
            # The request left; M-Pesa may have acted on it.
            raise DarajaError(
                f"no answer from M-Pesa: {error!r}", retryable=idempotent, maybe_sent=True
            ) from error


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DarajaError(
            f"M-Pesa answered {response.status_code} with a body that is not JSON",
            http_status=response.status_code,
            retryable=True,
        ) from error
    if not isinstance(document, dict):
        raise DarajaError("M-Pesa answered with JSON that is not an object", retryable=True)
    return document


def _envelope(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        document = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    code = document.get("errorCode")
    message = document.get("errorMessage")
    return (
        normalise_code(code) if code is not None else None,
        str(message) if message is not None else None,
    )


def _token_refused(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    code, _ = _envelope(response)
    return code in INVALID_TOKEN_CODES


def _error(response: httpx.Response, fallback: str) -> DarajaError:
    code, message = _envelope(response)
    status = response.status_code
    # 5xx and 429 are worth another try; a 4xx says the request itself is wrong.
    retryable = status >= 500 or status == 429
    if code == IN_PROGRESS:
        retryable = True
    text = f"{message} ({code})" if message and code else (message or f"{fallback}: HTTP {status}")
    return DarajaError(text, http_status=status, error_code=code, retryable=retryable)


def _acknowledged(document: Mapping[str, Any], what: str) -> Acknowledged:
    if normalise_code(document.get("ResponseCode", "")) != "0":
        raise DarajaError(
            f"M-Pesa did not accept {what}: {document.get('ResponseDescription')}",
            error_code=normalise_code(document.get("ResponseCode", "")),
            retryable=False,
        )
    return Acknowledged(
        conversation_id=str(document.get("ConversationID") or ""),
        # Safaricom spells it OriginatorCoversationID in the register answer.
        originator_conversation_id=str(
            document.get("OriginatorConversationID")
            or document.get("OriginatorCoversationID")
            or ""
        ),
        description=str(document.get("ResponseDescription") or ""),
    )
