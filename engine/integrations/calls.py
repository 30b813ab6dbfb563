"""The outbox executor for `call integration "order_system" operation "reserve_stock"`.

It re-reads the conversation when it runs (the payload carries ids, not state),
posts a signed JSON document to the integration's URL from integrations.yaml, and
turns the answer into the outbox verdict: done, retried with backoff, or failed
for staff to see.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.webhook.client import Delivery, deliver
from engine.automation.state import load_directory, load_states
from engine.core.step import view
from engine.db import workspace_session
from engine.models import Workspace
from engine.outbox.dispatch import ExecutionFailed, OutboxWork
from engine.workspaces.directory import ConfigDirectory

CALL_KIND = "integration.call"
ALLOW_PRIVATE_VARIABLE = "KAZI_OUTBOUND_ALLOW_PRIVATE"  # tests and local demos only


def make_call_executor(
    configs: ConfigDirectory,
    env: Mapping[str, str] | None = None,
    send: Callable[..., Delivery] = deliver,
) -> Callable[[OutboxWork], None]:
    environment = os.environ if env is None else env
    allow_private = environment.get(ALLOW_PRIVATE_VARIABLE) == "1"

    def call_integration(work: OutboxWork) -> None:
        name = str(work.payload.get("integration", ""))
        with workspace_session(work.db, work.workspace_id) as session:
            slug = session.scalar(select(Workspace.slug))
            config = configs.config(slug) if slug else None
            if config is None:
                raise ExecutionFailed("no valid config is in force", retryable=True)
            integration = config.integration(name)
            if integration is None or integration.kind != "webhook":
                raise ExecutionFailed(
                    f"integration {name!r} is not a webhook in integrations.yaml", retryable=False
                )
            conversation_id = work.payload.get("conversation_id")
            states = (
                load_states(
                    session, [int(conversation_id)], config, work.now, load_directory(session)
                )
                if isinstance(conversation_id, int)
                else {}
            )
            state = states.get(conversation_id) if isinstance(conversation_id, int) else None
            snapshot = view.snapshot(state) if state is not None else None
        variable = integration.secrets.get("signing_secret", "")
        secret = environment.get(variable)
        if not secret:
            raise ExecutionFailed(f"set {variable} to sign calls to {name!r}", retryable=False)
        document = {
            "integration": name,
            "operation": work.payload.get("operation"),
            "rule": work.payload.get("rule"),
            "workspace": slug,
            "conversation": _plain(dict(snapshot.conversation)) if snapshot else None,
            "contact": _plain(dict(snapshot.contact)) if snapshot else None,
            "objects": _plain({k: dict(v) for k, v in snapshot.objects.items()})
            if snapshot
            else {},
            "sent_at": work.now.isoformat(),
        }
        delivery = send(
            integration.settings["url"],
            document,
            secret=secret,
            idempotency_key=work.idempotency_key,
            timestamp=int(work.now.timestamp()),
            timeout=min(float(integration.settings.get("timeout_seconds", 10)), 30.0),
            allow_private=allow_private,
        )
        if not delivery.delivered:
            raise ExecutionFailed(f"{name}: {delivery.detail}", retryable=delivery.retryable)

    return call_integration


def _plain(value: Any) -> Any:
    """JSON-ready: instants as ISO text, amounts as numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
