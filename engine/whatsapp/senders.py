"""Which Cloud API sender serves a workspace's business number, from its config."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.whatsapp.client import GRAPH_URL, CloudApiSender
from connectors.whatsapp.media import CloudApiMedia
from engine.core.config import BusinessNumber
from engine.core.media import MediaTransfer
from engine.core.messaging import MessageSender, OutboundMessage, SendResult
from engine.db import system_session
from engine.models import Workspace
from engine.outbox.dispatch import ExecutionFailed
from engine.outbox.rate_limit import TokenBuckets, make_token_buckets
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory

API_URL_VARIABLE = "KAZI_WHATSAPP_API_URL"


class WhatsAppSenders:
    """Builds one sender per (workspace, phone number id) and keeps it for reuse.

    The API base URL is WhatsApp's own unless KAZI_WHATSAPP_API_URL points elsewhere
    (the simulator in the demo and in tests). A number with `messages_per_second` in
    its config gets a sender that must be admitted by the shared token bucket first.
    """

    def __init__(
        self,
        db: Engine,
        configs: ConfigDirectory,
        env: Mapping[str, str] | None = None,
        buckets: TokenBuckets | None = None,
    ) -> None:
        self._db = db
        self._configs = configs
        self._env = os.environ if env is None else env
        self._senders: dict[tuple[int, str], MessageSender] = {}
        self._media: dict[tuple[int, str], CloudApiMedia] = {}
        self._slugs: dict[int, str] = {}
        self._buckets = buckets
        self._lock = threading.Lock()

    def __call__(self, workspace_id: int, business_number: str) -> MessageSender:
        phone_number_id, token, number = self._credentials(workspace_id, business_number)
        with self._lock:
            key = (workspace_id, phone_number_id)
            if key not in self._senders:
                self._senders[key] = CloudApiSender(
                    access_token=token,
                    phone_number_id=phone_number_id,
                    base_url=self._env.get(API_URL_VARIABLE) or GRAPH_URL,
                )
            sender = self._senders[key]
            rate = number.messages_per_second if number else None
            if not rate:
                return sender
            if self._buckets is None:
                settings = Settings.from_env(self._env)
                self._buckets = make_token_buckets(settings.redis_url, settings.var_dir)
            return RateLimitedSender(
                sender, self._buckets, f"{workspace_id}:{phone_number_id}", rate
            )

    def media(self, workspace_id: int, business_number: str) -> MediaTransfer:
        """The media endpoints for a number, with the same token; no rate limit (uploads
        and downloads do not count as messages)."""
        phone_number_id, token, _ = self._credentials(workspace_id, business_number)
        with self._lock:
            key = (workspace_id, phone_number_id)
            if key not in self._media:
                self._media[key] = CloudApiMedia(
                    access_token=token,
                    phone_number_id=phone_number_id,
                    base_url=self._env.get(API_URL_VARIABLE) or GRAPH_URL,
                )
            return self._media[key]

    def _credentials(
        self, workspace_id: int, business_number: str
    ) -> tuple[str, str, BusinessNumber | None]:
        """(phone number id, access token, the number's config) from the workspace config."""
        slug = self._slug(workspace_id)
        config = self._configs.config(slug) if slug else None
        if config is None:
            raise ExecutionFailed(f"workspace {slug!r} has no valid config", retryable=True)
        number = next((n for n in config.numbers if n.phone == business_number), None)
        phone_number_id = number.phone_number_id if number else business_number
        integration = next(
            (
                i
                for i in config.integrations
                if i.kind == "whatsapp" and i.settings.get("phone_number_id") == phone_number_id
            ),
            None,
        )
        if integration is None:
            raise ExecutionFailed(
                f"no WhatsApp integration for number {business_number} in {slug!r}",
                retryable=False,
            )
        variable = integration.secrets.get("access_token", "")
        token = self._env.get(variable)
        if not token:
            raise ExecutionFailed(
                f"the WhatsApp access token is not set: set {variable} and retry", retryable=False
            )
        return phone_number_id, token, number

    def learn_slugs(self, session: Session, workspace_ids: Iterable[int]) -> None:
        """Read the slugs of `workspace_ids` not yet known through the caller's session.

        A batch of sends resolves its senders inside the transaction that claimed it; on
        SQLite that transaction holds the write lock, and the second connection `_slug`
        would open waits for it (the busy timeout) and fails."""
        with self._lock:
            unknown = set(workspace_ids) - set(self._slugs)
        if not unknown:
            return
        found = session.execute(
            select(Workspace.id, Workspace.slug).where(Workspace.id.in_(unknown))
        )
        with self._lock:
            self._slugs.update({workspace_id: slug for workspace_id, slug in found})

    def _slug(self, workspace_id: int) -> str | None:
        """A workspace's slug never changes, so it is read once per process, not per send."""
        with self._lock:
            known = self._slugs.get(workspace_id)
        if known is not None:
            return known
        with system_session(self._db) as session:
            slug = session.scalar(select(Workspace.slug).where(Workspace.id == workspace_id))
        if slug is not None:
            with self._lock:
                self._slugs[workspace_id] = slug
        return slug


class RateLimitedSender:
    """A sender and its number's token bucket; the send executor asks `admit` first."""

    def __init__(self, inner: MessageSender, buckets: TokenBuckets, key: str, rate: float):
        self._inner, self._buckets, self._key, self._rate = inner, buckets, key, rate

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def key(self) -> str:
        """The bucket's key: one per workspace and number."""
        return self._key

    def admit(self, now: datetime) -> timedelta:
        return self._buckets.take(self._key, self._rate, now)

    def send(self, message: OutboundMessage, *, idempotency_key: str) -> SendResult:
        return self._inner.send(message, idempotency_key=idempotency_key)
