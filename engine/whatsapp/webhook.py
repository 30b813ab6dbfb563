"""What a WhatsApp webhook request does: verify, store raw, commit, enqueue. Nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, bindparam, select, update

from connectors.whatsapp.events import PROVIDER, InboundMessage, WhatsAppEvent
from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.signature import verification_handshake, verify_signature
from engine.core.queue import JobQueue
from engine.db import system_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.jobs.names import PROCESS_INBOUND_BATCH
from engine.models import InboundEvent, Workspace
from engine.workspaces.directory import WhatsAppSecrets

_WORKSPACE_BY_SLUG = select(Workspace.id).where(Workspace.slug == bindparam("slug"))


SecretLookup = Callable[[str], WhatsAppSecrets | None]
"""Workspace slug → its WhatsApp secrets, or None when it has no WhatsApp integration."""


@dataclass(frozen=True)
class WebhookOutcome:
    status: int
    detail: str
    stored: int = 0
    duplicates: int = 0
    flagged: int = 0


def shown_as_message(event: WhatsAppEvent) -> bool:
    """A customer's message whose content Kazi cannot read (an unknown type, `interactive`
    without its object) but that says who sent it, when, under which id: applied as a
    visible placeholder message (reference §5.12), not only flagged."""
    return (
        isinstance(event, InboundMessage)
        and not event.is_echo
        and bool(event.message_id)
        and event.timestamp is not None
        and bool(event.from_wa_id or event.from_user_id)
    )


def workspace_id_for(db: Engine, slug: str) -> int | None:
    with system_session(db) as session:
        return session.scalar(select(Workspace.id).where(Workspace.slug == slug))


def receive_webhook(
    *,
    db: Engine,
    queue: JobQueue,
    secrets: SecretLookup,
    slug: str,
    body: bytes,
    signature: str | None,
    now: datetime,
) -> WebhookOutcome:
    """Verify the signature over the raw bytes, store each item, commit, then enqueue.

    Refused (401, nothing stored) without a configured secret or a valid signature.
    A malformed but authentic body is stored and flagged, never dropped. An enqueue
    that fails after the commit is harmless: the sweeper finds the events.
    """
    # The signature is checked before touching the database, and the workspace lookup
    # and the insert share one transaction: one connection, one commit a request.
    known = secrets(slug)
    verdict = verify_signature(body, signature, known.app_secret if known else None)
    if not verdict.accepted:
        if known is None and workspace_id_for(db, slug) is None:
            return WebhookOutcome(404, f"no workspace {slug!r}")
        return WebhookOutcome(401, f"signature refused: {verdict.value}")
    items = [
        RawItem(
            dedup_key=event.dedup_key,
            payload=event.envelope if isinstance(event.envelope, dict) else _kept(body),
            flag=(
                ("; ".join(event.problems) or ", ".join(sorted(event.flags)))
                if event.flagged and not shown_as_message(event)
                else None
            ),
        )
        for event in parse_webhook(body)
    ]
    # A bare connection, not an ORM session: this is the hot path of every webhook and
    # the ORM's unit of work buys nothing for two statements. The workspace is known
    # only after the lookup; every row store_inbound writes carries its id explicitly.
    with db.connect() as connection:
        workspace_id = connection.scalar(_WORKSPACE_BY_SLUG, {"slug": slug})
        if workspace_id is None:
            return WebhookOutcome(404, f"no workspace {slug!r}")
        stored = store_inbound(
            connection,
            workspace_id=workspace_id,
            provider=PROVIDER,
            items=items,
            signature_ok=True,
            now=now,
        )
        connection.commit()
    if stored.new_event_ids:
        # One job for the request, however many items it carried: the batch job claims
        # the workspace's ready events, these among them (and any that piled up).
        try:
            queue.enqueue(PROCESS_INBOUND_BATCH, workspace_id=workspace_id)
        except Exception:  # the queue is down: the sweeper will enqueue it later
            _unmark(db, stored.new_event_ids)
    return WebhookOutcome(
        200,
        "stored",
        stored=len(stored.new_event_ids),
        duplicates=stored.duplicates,
        flagged=stored.flagged,
    )


def _unmark(db: Engine, event_ids: list[int]) -> None:
    """Events stored but not enqueued lose their enqueue mark, so the sweeper hands them
    out at its next look (seconds), not after its re-enqueue delay (a minute)."""
    try:
        with db.begin() as connection:
            connection.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(event_ids))
                .values(enqueued_at=None)
                .execution_options(synchronize_session=False)
            )
    except Exception:  # the database went too: the re-enqueue delay still finds them
        pass


def answer_handshake(
    *, db: Engine, secrets: SecretLookup, slug: str, params: Mapping[str, str]
) -> tuple[int, str]:
    """The GET verification: echo the challenge when the verify token matches."""
    known = secrets(slug) if workspace_id_for(db, slug) is not None else None
    if known is None:
        return 404, "unknown workspace"
    answer = verification_handshake(params, known.verify_token)
    return answer.status, answer.body


def _kept(body: bytes) -> dict[str, object]:
    """An unreadable body, kept as text so staff can see what came."""
    try:
        return {"unreadable_json": json.loads(body)}
    except ValueError:
        return {"unreadable_body": body.decode("utf-8", errors="replace")}
