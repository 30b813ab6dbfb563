"""A workspace's M-Pesa account: integrations.yaml settings plus the secrets they name.

Also where callback URLs are made. Daraja refuses callback URLs containing words
such as `mpesa`, `safaricom`, `sql`, `exe`, `cmd` or `query` (reference §2.1, §6), so
Kazi's callback routes live under `/webhooks/payments/...`, never `/webhooks/mpesa/...`.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.mpesa.client import DarajaClient, TokenCache, api_url
from connectors.mpesa.requests import PAYBILL, TILL, Merchant
from engine.core.clock import Clock
from engine.core.config import Integration, WorkspaceConfig

KIND = "mpesa"
PUBLIC_URL_VARIABLE = "KAZI_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
CALLBACK_PREFIX = "/webhooks/payments"
FORBIDDEN_URL_WORDS = ("mpesa", "m-pesa", "safaricom", "sql", "exe", "cmd", "query")


class AccountMissing(Exception):
    """The workspace has no usable M-Pesa integration: what is missing, in words."""


@dataclass(frozen=True)
class MpesaAccount:
    integration: str
    environment: str
    merchant: Merchant
    consumer_key: str
    consumer_secret: str
    callback_token: str
    account_prefix: str
    base_url: str
    initiator: str | None = None  # Transaction Status, for C2B confirmation
    security_credential: str | None = None


def mpesa_integration(config: WorkspaceConfig, name: str | None = None) -> Integration | None:
    """The integration `via "<name>"` names: by name first, else the first of kind mpesa."""
    kinds = [i for i in config.integrations if i.kind == KIND]
    if name is not None:
        for integration in kinds:
            if integration.name == name:
                return integration
    return kinds[0] if kinds else None


def account_for(config: WorkspaceConfig, name: str | None, env: Mapping[str, str]) -> MpesaAccount:
    integration = mpesa_integration(config, name)
    if integration is None:
        raise AccountMissing(f"no M-Pesa integration {name or ''!r} in integrations.yaml")

    def secret(setting: str, required: bool = True) -> str | None:
        variable = integration.secrets.get(setting)
        value = env.get(variable or "", "") if variable else ""
        if required and not value:
            raise AccountMissing(
                f"set {variable or setting} (the {setting} of M-Pesa integration "
                f"{integration.name!r})"
            )
        return value or None

    settings = integration.settings
    kind = TILL if settings.get("transaction_type") == TILL else PAYBILL
    return MpesaAccount(
        integration=integration.name,
        environment=settings.get("environment", "production"),
        merchant=Merchant(
            shortcode=settings.get("shortcode", ""),
            passkey=secret("passkey") or "",
            kind=kind,
            till_number=settings.get("till_number"),
        ),
        consumer_key=secret("consumer_key") or "",
        consumer_secret=secret("consumer_secret") or "",
        callback_token=secret("callback_token") or "",
        account_prefix=settings.get("account_reference_prefix", ""),
        base_url=api_url(settings.get("environment"), env),
        initiator=settings.get("initiator"),
        security_credential=secret("security_credential", required=False),
    )


def integration_for_token(
    config: WorkspaceConfig, token: str, env: Mapping[str, str]
) -> str | None:
    """The M-Pesa integration whose callback token this is, compared in constant time."""
    found = None
    for integration in config.integrations:
        if integration.kind != KIND:
            continue
        variable = integration.secrets.get("callback_token", "")
        expected = env.get(variable, "") if variable else ""
        if expected and hmac.compare_digest(expected.encode(), token.encode()):
            found = integration.name
    return found


def callback_url(env: Mapping[str, str], slug: str, token: str, path: str) -> str:
    """`<KAZI_PUBLIC_URL>/webhooks/payments/<workspace>/<token>/<path>`."""
    base = (env.get(PUBLIC_URL_VARIABLE) or DEFAULT_PUBLIC_URL).rstrip("/")
    return f"{base}{CALLBACK_PREFIX}/{slug}/{token}/{path}"


def forbidden_words(url: str) -> list[str]:
    """Words Daraja refuses in a callback URL (the host is not checked: it is the operator's)."""
    _, _, rest = url.partition("://")
    path = rest[rest.find("/") :] if "/" in rest else ""
    return [word for word in FORBIDDEN_URL_WORDS if word in path.lower()]


class DarajaClients:
    """One client (and one cached token) per app and host in this process."""

    def __init__(self, clock: Clock, transport: object | None = None) -> None:
        self._clock = clock
        self._transport = transport
        self._clients: dict[tuple[str, str], DarajaClient] = {}
        self._lock = threading.Lock()

    def client(self, account: MpesaAccount) -> DarajaClient:
        key = (account.base_url, account.consumer_key)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = DarajaClient(
                    base_url=account.base_url,
                    consumer_key=account.consumer_key,
                    consumer_secret=account.consumer_secret,
                    clock=self._clock,
                    transport=self._transport,  # type: ignore[arg-type]
                    tokens=TokenCache(),
                )
                self._clients[key] = found
            return found
