"""Events from a business's own systems (an order system, a booking calendar) coming in.

`POST /webhooks/integrations/{workspace}/{integration}` with a JSON body
`{"id": "<their event id>", "event": "order.stage_changed", "reference": "PF-1042"
or "phone": "+2547...", "data": {...}}`, signed like Kazi's own outgoing calls
(`Kazi-Signature: t=..,v1=HMAC(t.body)` with the integration's signing secret).
Like a WhatsApp webhook it is verified, stored raw and answered; a job then finds
the conversation (by the business object's reference, else the contact's phone)
and hands `when integration "x" event "y"` rules the event, its `data` as `event.*`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.webhook.signing import verify
from engine.conversations.events import ConversationEvent
from engine.core.queue import JobQueue
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import workspace_session
from engine.identity import find_contact, normalise_address
from engine.inbound.ingest import RawItem, store_inbound
from engine.jobs.names import PROCESS_INBOUND_BATCH
from engine.models import BusinessObject, BusinessObjectLink, Conversation, InboundEvent
from engine.models.states import ConversationStatus
from engine.whatsapp.webhook import WebhookOutcome, workspace_id_for
from engine.workspaces.directory import ConfigDirectory

PROVIDER = "integration"
SIGNATURE_TOLERANCE_SECONDS = 300


def receive_integration_event(
    *,
    db: Engine,
    queue: JobQueue,
    configs: ConfigDirectory,
    slug: str,
    integration: str,
    body: bytes,
    signature: str | None,
    now: datetime,
    env: Mapping[str, str] | None = None,
) -> WebhookOutcome:
    workspace_id = workspace_id_for(db, slug)
    if workspace_id is None:
        return WebhookOutcome(404, f"no workspace {slug!r}")
    config = configs.config(slug)
    declared = config.integration(integration) if config else None
    variable = declared.secrets.get("signing_secret") if declared else None
    secret = (os.environ if env is None else env).get(variable or "")
    if not secret or not signature:
        return WebhookOutcome(401, "signature refused: no secret or no signature")
    if not verify(body, signature, secret, int(now.timestamp()), SIGNATURE_TOLERANCE_SECONDS):
        return WebhookOutcome(401, "signature refused: wrong or stale")
    item = _item(integration, body)
    with workspace_session(db, workspace_id) as session:
        stored = store_inbound(
            session,
            workspace_id=workspace_id,
            provider=PROVIDER,
            items=[item],
            signature_ok=True,
            now=now,
        )
        session.commit()
    if stored.new_event_ids:
        # One batch job claims the workspace's ready events, these among them.
        with suppress(Exception):  # the queue is down: the sweeper will enqueue it later
            queue.enqueue(PROCESS_INBOUND_BATCH, workspace_id=workspace_id)
    return WebhookOutcome(
        200,
        "stored",
        stored=len(stored.new_event_ids),
        duplicates=stored.duplicates,
        flagged=stored.flagged,
    )


def _item(integration: str, body: bytes) -> RawItem:
    """The stored row: authentic but malformed bodies are kept and flagged, not dropped."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("id"), str)
        or not isinstance(document.get("event"), str)
        or not isinstance(document.get("data", {}), dict)
    ):
        text = body.decode("utf-8", errors="replace")
        return RawItem(
            dedup_key=f"{integration}:malformed:{hashlib.sha256(body).hexdigest()}",
            payload={"integration": integration, "unreadable_body": text[:100_000]},
            flag='not an event: needs JSON with string "id" and "event", and a "data" object',
        )
    return RawItem(
        dedup_key=f"{integration}:{document['id']}",
        payload={"integration": integration, "body": document},
    )


def apply_integration_event(
    session: Session, event: InboundEvent, now: datetime
) -> list[ConversationEvent]:
    integration = str(event.payload["integration"])
    body: dict[str, Any] = event.payload["body"]
    conversation = _conversation_for(session, body)
    if conversation is None:
        raise LookupError(
            f"no open conversation for reference {body.get('reference')!r} "
            f"or phone {body.get('phone')!r}"
        )
    domain_event = DomainEvent(
        TriggerKind.INTEGRATION_EVENT.value,
        f"integration:{integration}:{body['id']}",
        now,
        key=f"{integration}:{body['event']}",
        data=dict(body.get("data") or {}),
    )
    return [ConversationEvent(conversation.id, domain_event)]


def _conversation_for(session: Session, body: dict[str, Any]) -> Conversation | None:
    reference = body.get("reference")
    if isinstance(reference, str) and reference:
        return session.scalars(
            select(Conversation)
            .join(BusinessObjectLink, BusinessObjectLink.conversation_id == Conversation.id)
            .join(BusinessObject, BusinessObject.id == BusinessObjectLink.business_object_id)
            .where(BusinessObject.external_ref == reference)
            .order_by(
                Conversation.status == ConversationStatus.RESOLVED, Conversation.opened_at.desc()
            )
            .limit(1)
        ).first()
    phone = body.get("phone")
    if isinstance(phone, str) and phone:
        try:
            contact = find_contact(session, "whatsapp", normalise_address("whatsapp", phone))
        except ValueError:
            return None
        if contact is None:
            return None
        return session.scalars(
            select(Conversation)
            .where(
                Conversation.contact_id == contact.id,
                Conversation.status != ConversationStatus.RESOLVED,
            )
            .order_by(Conversation.opened_at.desc())
            .limit(1)
        ).first()
    return None
