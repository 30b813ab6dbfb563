"""A person's rights over their data: export one contact's data, erase one contact.

Export gathers everything Kazi holds about the contact into one JSON document.
Erasure removes what identifies the person and what they said, everywhere Kazi
keeps it (the record, addresses, messages, notes, tasks, raw webhook payloads,
outbox payloads, audit details); it keeps the shape of the history ("a contact
existed, had these conversations, this order of KES 1,200 with reference X")
under a pseudonym, because payment records must be kept. It cannot be undone.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from typing import cast as cast_result

from sqlalchemy import CursorResult, Result, String, cast, delete, false, or_, select, update
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.contacts import surviving_contact
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.models import (
    AiResult,
    AuditLog,
    BusinessObject,
    ConsentEvent,
    Contact,
    ContactConsent,
    ContactMerge,
    ContactTag,
    Conversation,
    ConversationTag,
    Escalation,
    Identity,
    InboundEvent,
    MediaFile,
    Message,
    MessageEdit,
    MessageStatusEvent,
    Note,
    Notification,
    OutboxRow,
    OutboxState,
    Payment,
    RuleFiring,
    ScheduledAction,
    Task,
    UnmatchedItem,
)

ERASED = "[erased]"
# What the admin types to confirm; erasing cannot be undone.
CONFIRMATION = "ERASE"
# Shorter strings would match too much of unrelated text.
_MIN_SECRET = 4


# --- export ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-ready: instants as ISO 8601, money as exact decimal strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _task(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "due_at": task.due_at,
        "done_at": task.done_at,
        "assignee_id": task.assignee_id,
        "created_at": task.created_at,
    }


def export_contact(
    session: Session, principal: Principal, contact_id: int, now: datetime
) -> dict[str, Any]:
    """Everything Kazi holds about one contact, as JSON-ready data. The export is
    audited (and the audit trail it contains includes it); the caller commits."""
    require(principal, Action.EXPORT_CONTACT)
    contact = surviving_contact(session, contact_id)
    record(session, principal, "export", subject_kind="contact", subject_id=contact.id, now=now)
    session.flush()
    conversations = list(
        session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact.id)
            .order_by(Conversation.id)
        )
    )
    conversation_ids = [c.id for c in conversations]
    objects = list(
        session.scalars(
            select(BusinessObject)
            .where(BusinessObject.contact_id == contact.id)
            .order_by(BusinessObject.id)
        )
    )
    document = {
        "exported_at": now,
        "exported_by": principal.name,
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "profile_name": contact.profile_name,
            "language": contact.language,
            "fields": dict(contact.fields or {}),
            "company": contact.company.name if contact.company is not None else None,
            "created_at": contact.created_at,
            "erased_at": contact.erased_at,
        },
        "identities": [
            {
                "channel": i.channel,
                "address": i.address,
                "current": i.is_current,
                "valid_from": i.valid_from,
                "valid_to": i.valid_to,
            }
            for i in session.scalars(
                select(Identity).where(Identity.contact_id == contact.id).order_by(Identity.id)
            )
        ],
        "conversations": [
            {
                "id": c.id,
                "business_number": c.business_number,
                "status": c.status,
                "stage": c.stage,
                "opened_at": c.opened_at,
                "resolved_at": c.resolved_at,
                "fields": dict(c.fields or {}),
                "tags": c.tag_names,
                "messages": [
                    {
                        "id": m.id,
                        "direction": m.direction,
                        "type": m.type,
                        "body": m.body,
                        "media": m.media,
                        "author_kind": m.author_kind,
                        "delivery_state": m.delivery_state,
                        "sent_at": m.provider_timestamp or m.created_at,
                    }
                    for m in c.messages
                ],
                "notes": [
                    {"id": n.id, "body": n.body, "created_at": n.created_at}
                    for n in sorted(c.notes, key=lambda n: n.id)
                ],
                "tasks": [
                    _task(t)
                    for t in session.scalars(
                        select(Task).where(Task.conversation_id == c.id).order_by(Task.id)
                    )
                ],
            }
            for c in conversations
        ],
        # The files themselves, so the export holds what the person sent and received.
        "files": [
            {
                "message_id": f.message_id,
                "file_name": f.file_name,
                "mime_type": f.mime_type,
                "size": f.size,
                "sha256": f.sha256,
                "content_base64": base64.b64encode(f.content).decode("ascii"),
            }
            for f in session.scalars(
                select(MediaFile)
                .join(Message, Message.id == MediaFile.message_id)
                .where(Message.conversation_id.in_(conversation_ids))
                .order_by(MediaFile.id)
            )
        ],
        "business_objects": [
            {
                "id": b.id,
                "kind": b.kind,
                "external_ref": b.external_ref,
                "status": b.status,
                "amount": b.amount,
                "currency": b.currency,
                "fields": dict(b.fields or {}),
                "line_items": list(b.line_items or []),
                "pipeline": b.pipeline,
                "stage": b.stage,
                "created_at": b.created_at,
                "conversation_ids": [link.conversation_id for link in b.conversation_links],
                "tasks": [
                    _task(t)
                    for t in session.scalars(
                        select(Task).where(Task.business_object_id == b.id).order_by(Task.id)
                    )
                ],
            }
            for b in objects
        ],
        "tags": sorted(
            set(
                session.scalars(
                    select(ConversationTag.name).where(
                        ConversationTag.conversation_id.in_(conversation_ids)
                    )
                )
            )
        ),
        "audit": [
            {
                "at": a.at,
                "action": a.action,
                "actor_kind": a.actor_kind,
                "actor_teammate_id": a.actor_teammate_id,
                "actor_name": a.actor_name,
                "detail": a.detail,
            }
            for a in session.scalars(
                select(AuditLog)
                .where(AuditLog.subject_kind == "contact", AuditLog.subject_id == contact.id)
                .order_by(AuditLog.at, AuditLog.id)
            )
        ],
    }
    plain: dict[str, Any] = _plain(document)
    return plain


# --- erasure ---------------------------------------------------------------------------


def secrets_of(strings: Iterable[str | None]) -> frozenset[str]:
    """The strings to hunt for: each given one, and a phone number also without its
    `+` (WhatsApp writes numbers that way in its payloads)."""
    found: set[str] = set()
    for text in strings:
        if not text:
            continue
        text = text.strip()
        for form in (text, text.lstrip("+")):
            if len(form) >= _MIN_SECRET:
                found.add(form)
    return frozenset(found)


def scrub(value: Any, secrets: frozenset[str]) -> tuple[Any, bool]:
    """`value` (any JSON-shaped data) with every string that contains a secret
    replaced by ERASED; and whether anything was replaced."""
    if isinstance(value, str):
        lowered = value.lower()
        if any(secret.lower() in lowered for secret in secrets):
            return ERASED, True
        return value, False
    if isinstance(value, dict):
        changed = False
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            cleaned[key], hit = scrub(item, secrets)
            changed = changed or hit
        return cleaned, changed
    if isinstance(value, list):
        items = [scrub(item, secrets) for item in value]
        return [item for item, _ in items], any(hit for _, hit in items)
    return value, False


@dataclass(frozen=True)
class Erasure:
    contact_id: int
    identities: int
    conversations: int
    messages: int
    notes: int
    raw_records: int  # webhook payloads, outbox payloads, audit details and the like
    files: int = 0  # media bytes Kazi kept, deleted
    sends_cancelled: int = 0  # messages still waiting to go out to them, never sent now
    ai_results: int = 0  # the AI's intents, details and summaries of their words, deleted


def _count(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched."""
    return int(cast_result(CursorResult[Any], result).rowcount)


def _media_strings(media: dict[str, Any] | None) -> list[str]:
    if not media:
        return []
    return [str(v) for k, v in media.items() if k in ("caption", "filename", "file_name") and v]


def erase_contact(
    session: Session, principal: Principal, contact_id: int, confirmation: str, now: datetime
) -> Erasure:
    """Remove every piece of personal data about the contact; keep a pseudonymous
    skeleton and an audit record with counts only. Cannot be undone. The caller
    commits."""
    require(principal, Action.ERASE_CONTACT)
    if confirmation.strip() != CONFIRMATION:
        raise InvalidInput(f"type {CONFIRMATION} to confirm: erasing cannot be undone")
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    if contact.merged_into_id is not None:
        raise Conflict(
            f"contact {contact.id} was merged into contact {contact.merged_into_id}: "
            "erase that contact, which holds their data now"
        )
    if contact.erased_at is not None:
        raise Conflict("this contact was already erased")

    identities = list(session.scalars(select(Identity).where(Identity.contact_id == contact.id)))
    conversation_ids = list(
        session.scalars(select(Conversation.id).where(Conversation.contact_id == contact.id))
    )
    messages = list(
        session.scalars(
            select(Message).where(
                or_(
                    Message.conversation_id.in_(conversation_ids),
                    Message.author_contact_id == contact.id,
                )
            )
        )
    )
    # Rows elsewhere are found by the person's addresses (every WhatsApp payload
    # names the number); in them, anything the person is or said is removed.
    addresses = secrets_of(i.address for i in identities)
    secrets = addresses | secrets_of(
        [
            contact.name,
            contact.profile_name,
            *(str(v) for v in (contact.fields or {}).values()),
            *(m.body for m in messages),
            *(s for m in messages for s in _media_strings(m.media)),
        ]
    )

    # The record: a pseudonym that says only that a contact existed.
    contact.name = contact.profile_name = contact.language = None
    contact.fields = {}
    contact.company_id = None
    contact.erased_at = now
    # Tags and the words of their consent describe the person; whether and when they
    # consented is kept, as the proof a business may need.
    session.execute(delete(ContactTag).where(ContactTag.contact_id == contact.id))
    for consent_model in (ContactConsent, ConsentEvent):
        session.execute(
            update(consent_model).where(consent_model.contact_id == contact.id).values(detail=None)
        )
    for identity in identities:
        if identity.is_current:
            identity.is_current, identity.valid_to = False, now
        # Not an address: a later message from this number finds no one and starts
        # a fresh contact instead of re-linking to the erased one.
        identity.address = f"erased-{identity.id}"
    for message in messages:
        message.body = None
        message.media = None
        message.failure_detail = None
    message_ids = [m.id for m in messages]
    # What the person's messages said before they edited them goes too.
    session.execute(delete(MessageEdit).where(MessageEdit.message_id.in_(message_ids)))
    files = _count(session.execute(delete(MediaFile).where(MediaFile.message_id.in_(message_ids))))
    # A send still waiting would go out with its text scrubbed: it must not go at all.
    sends_cancelled = _count(
        session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.conversation_id.in_(conversation_ids),
                OutboxRow.state.in_((OutboxState.QUEUED, OutboxState.FAILED)),
            )
            .values(state=OutboxState.DEAD, last_error="the contact was erased")
        )
    )
    for event in session.scalars(
        select(MessageStatusEvent).where(MessageStatusEvent.message_id.in_(message_ids))
    ):
        event.raw = {}
    # The AI's answers repeat what the person wrote (summaries, extracted numbers and
    # places): they go, and staff can ask again of what is left.
    ai_results = _count(
        session.execute(
            delete(AiResult).where(
                or_(
                    AiResult.conversation_id.in_(conversation_ids),
                    AiResult.message_id.in_(message_ids),
                )
            )
        )
    )
    notes = list(session.scalars(select(Note).where(Note.conversation_id.in_(conversation_ids))))
    for note in notes:
        note.body = ERASED
    objects = list(
        session.scalars(select(BusinessObject).where(BusinessObject.contact_id == contact.id))
    )
    for business_object in objects:
        # Kind, reference, status and amount stay: the business must keep payment records.
        business_object.fields = {}
    for task in session.scalars(
        select(Task).where(
            or_(
                Task.conversation_id.in_(conversation_ids),
                Task.business_object_id.in_([b.id for b in objects]),
            )
        )
    ):
        task.title = ERASED
    for escalation in session.scalars(
        select(Escalation).where(Escalation.conversation_id.in_(conversation_ids))
    ):
        # Who decided what, and when, stays; why (it may quote the customer) does not.
        escalation.reason = ERASED
        escalation.note = ERASED if escalation.note else None
    for conversation in session.scalars(
        select(Conversation).where(Conversation.id.in_(conversation_ids))
    ):
        conversation.fields = {}
    for notification in session.scalars(
        select(Notification).where(Notification.conversation_id.in_(conversation_ids))
    ):
        notification.text = "A conversation with an erased contact"
    for merge in session.scalars(
        select(ContactMerge).where(
            or_(ContactMerge.survivor_id == contact.id, ContactMerge.merged_id == contact.id)
        )
    ):
        merge.filled = {key: ERASED for key in merge.filled or {}}
    for entry in session.scalars(
        select(AuditLog).where(
            AuditLog.subject_kind == "contact",
            AuditLog.subject_id == contact.id,
            AuditLog.action == "edit",
        )
    ):
        # An edit's "from" may be a name the person no longer has: keep only which parts.
        entry.detail = {"parts": sorted((entry.detail or {}).get("changes") or {})}
    raw_records = _scrub_raw_records(session, contact.id, conversation_ids, addresses, secrets)
    for payment in session.scalars(
        select(Payment).where(Payment.conversation_id.in_(conversation_ids))
    ):
        # A C2B confirmation names the payer, often by first name only: not a secret
        # the scrubber can find, but theirs all the same.
        payment.phone = None
        if isinstance(payment.raw_callback, dict) and _PAYER_NAMES & set(payment.raw_callback):
            payment.raw_callback = {
                k: v for k, v in payment.raw_callback.items() if k not in _PAYER_NAMES
            }
    session.flush()
    erasure = Erasure(
        contact_id=contact.id,
        identities=len(identities),
        conversations=len(conversation_ids),
        messages=len(messages),
        notes=len(notes),
        raw_records=raw_records,
        files=files,
        sends_cancelled=sends_cancelled,
        ai_results=ai_results,
    )
    record(
        session,
        principal,
        "erase",
        subject_kind="contact",
        subject_id=contact.id,
        now=now,
        identities=erasure.identities,
        conversations=erasure.conversations,
        messages=erasure.messages,
        notes=erasure.notes,
        raw_records=erasure.raw_records,
        files=erasure.files,
        sends_cancelled=erasure.sends_cancelled,
        ai_results=erasure.ai_results,
    )
    return erasure


_PAYER_NAMES = frozenset({"FirstName", "MiddleName", "LastName"})


def _mentions(column: Any, secrets: frozenset[str]) -> Any:
    if not secrets:
        return false()
    as_text = cast(column, String)
    return or_(*(as_text.contains(secret, autoescape=True) for secret in secrets))


def _scrub_raw_records(
    session: Session,
    contact_id: int,
    conversation_ids: list[int],
    addresses: frozenset[str],
    secrets: frozenset[str],
) -> int:
    """Webhook payloads, outbox payloads, audit details, rule and schedule traces:
    rows about the contact, or whose text names one of their addresses, lose every
    string that contains a secret."""
    if not secrets:
        return 0
    scrubbed = 0
    candidates: list[tuple[Any, tuple[str, ...], Any]] = [
        (InboundEvent, ("payload", "last_error"), _mentions(InboundEvent.payload, addresses)),
        (
            OutboxRow,
            ("payload", "last_error"),
            or_(
                OutboxRow.conversation_id.in_(conversation_ids),
                _mentions(OutboxRow.payload, addresses),
            ),
        ),
        (
            AuditLog,
            ("detail",),
            or_(
                (AuditLog.subject_kind == "contact") & (AuditLog.subject_id == contact_id),
                (AuditLog.subject_kind == "conversation")
                & AuditLog.subject_id.in_(conversation_ids),
                _mentions(AuditLog.detail, addresses),
            ),
        ),
        (RuleFiring, ("detail",), RuleFiring.conversation_id.in_(conversation_ids)),
        # M-Pesa payments: the receipt, amount and state stay (payment records are kept
        # as tax law requires); the payer's number and the callback's names go.
        (
            Payment,
            ("phone", "raw_callback", "flag", "result_meaning"),
            or_(
                Payment.conversation_id.in_(conversation_ids),
                _mentions(Payment.phone, addresses),
                _mentions(Payment.raw_callback, addresses),
            ),
        ),
        # WhatsApp updates kept for a message not stored (yet): raw envelopes.
        (UnmatchedItem, ("payload", "summary"), _mentions(UnmatchedItem.payload, addresses)),
        (
            ScheduledAction,
            ("guard_text", "outcome"),
            ScheduledAction.conversation_id.in_(conversation_ids),
        ),
    ]
    for model, attributes, where in candidates:
        for row in session.scalars(select(model).where(where)):
            touched = False
            for attribute in attributes:
                cleaned, hit = scrub(getattr(row, attribute), secrets)
                if hit:
                    setattr(row, attribute, cleaned)
                    touched = True
            scrubbed += touched
    return scrubbed
