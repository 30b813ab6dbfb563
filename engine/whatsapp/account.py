"""What account-level WhatsApp webhooks do: template lifecycle and alerts for the admins.

Template status, quality and category updates (reference §6.5) are kept per template
(TemplateStatus), and a template Meta paused, disabled or rejected is refused at send
time (engine.whatsapp.outbound). Out-of-band `errors[]` and account, number and
security updates reach the workspace's admins and managers as notifications with what
they mean. Every one of them also stays stored raw on its inbound event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.whatsapp import reading as read
from connectors.whatsapp.errors import classify
from connectors.whatsapp.events import OtherChange, OutOfBandError
from engine.identity import find_current_identity
from engine.models import Channel, MessagingPreference, Notification, Teammate, TemplateStatus
from engine.whatsapp.identities import wa_id_forms

SOURCE = "WhatsApp"
# Statuses under which Meta refuses the template (§8.2: PAUSED gives 132015, DISABLED
# 132016; the others are not approved for sending): code for the failed message.
REFUSED_STATUSES = {
    "PAUSED": "132015",
    "DISABLED": "132016",
    "REJECTED": "132001",
    "PENDING_DELETION": "132001",
    "DELETED": "132001",
    "ARCHIVED": "132001",
    "LOCKED": "132001",
    "LIMIT_EXCEEDED": "132001",
}
ALERT_FIELDS = {
    "account_update": "Account update",
    "account_alerts": "Account alert",
    "account_review_update": "Account review",
    "business_capability_update": "Business capability update",
    "phone_number_quality_update": "Phone number quality",
    "phone_number_name_update": "Phone number display name",
    "security": "Security",
}


def apply_account_change(session: Session, change: OtherChange, now: datetime) -> None:
    value = change.raw if isinstance(change.raw, dict) else {}
    match change.field_name:
        case "message_template_status_update":
            status = read.text(value.get("event"))
            row = _template(session, value, now)
            row.status = status
            rejection = read.mapping(value.get("rejection_info"))
            reason = read.text(value.get("reason"))
            details = read.text(rejection.get("reason")) or read.text(
                rejection.get("recommendation")
            )
            row.reason = "; ".join(p for p in (reason, details) if p and p != "NONE") or None
            if status in REFUSED_STATUSES or status == "FLAGGED":
                because = f" ({row.reason})" if row.reason else ""
                alert(
                    session,
                    f"Template '{row.name}' ({row.language}) is now {status}{because}: "
                    "Kazi will not send it until Meta approves it again.",
                    now,
                )
        case "message_template_quality_update":
            row = _template(session, value, now)
            row.quality = read.text(value.get("new_quality_score"))
            if row.quality in ("RED", "YELLOW"):
                alert(
                    session,
                    f"Template '{row.name}' quality is {row.quality} "
                    f"(was {read.text(value.get('previous_quality_score')) or 'unknown'}).",
                    now,
                )
        case "template_category_update":
            row = _template(session, value, now)
            new = read.text(value.get("new_category")) or read.text(value.get("correct_category"))
            row.category = new
            alert(session, f"Meta re-categorised template '{row.name}' as {new}.", now)
        case "user_preferences":
            items = value.get("user_preferences")
            for choice in items if isinstance(items, list) else [value]:
                if isinstance(choice, dict):
                    _preference(session, choice, now)
        case field if field in ALERT_FIELDS:
            alert(session, f"{ALERT_FIELDS[field]} from WhatsApp: {_summary(value)}", now)
        case _:
            pass  # flows, calls, user preferences, history sync...: kept raw on the event


def apply_out_of_band_error(session: Session, item: OutOfBandError, now: datetime) -> None:
    error = item.error
    number = item.origin.display_phone_number if item.origin else None
    meaning = classify(error.code).meaning
    on = f" on {number}" if number else ""
    details = f" ({error.details})" if error.details else ""
    alert(
        session,
        f"WhatsApp reported error {error.code or '?'} {error.title}{on}: {meaning}{details}",
        now,
    )


# Send errors about the whole account or number, not one message (reference §9): the
# admins hear of them at once, not from a list of failed messages.
ACCOUNT_SEND_ERRORS = frozenset(
    {"0", "4", "190", "368", "80007", "130429", "131031", "131042", "131056", "133010"}
)
ALERT_QUIET = timedelta(hours=1)


def alert_send_error(session: Session, code: str, meaning: str, now: datetime) -> None:
    """An account-level send error, told to admins and managers once an hour at most."""
    if code not in ACCOUNT_SEND_ERRORS:
        return
    text = f"WhatsApp refused a send with error {code}: {meaning}"
    recent = session.scalar(
        select(Notification.id).where(
            Notification.source == SOURCE,
            Notification.text == text,
            Notification.created_at > now - ALERT_QUIET,
        )
    )
    if recent is None:
        alert(session, text, now)


def alert(session: Session, text: str, now: datetime) -> None:
    """A notification for every active admin and manager of the workspace."""
    for teammate_id in session.scalars(
        select(Teammate.id).where(
            Teammate.role.in_(("admin", "manager")), Teammate.active.is_(True)
        )
    ):
        session.add(
            Notification(teammate_id=teammate_id, text=text[:2000], source=SOURCE, created_at=now)
        )
    session.flush()


def template_refusal(session: Session, name: str, language: str) -> tuple[str, str] | None:
    """(code, reason) when Meta last said this template may not be sent; None otherwise."""
    row = session.scalars(
        select(TemplateStatus)
        .where(TemplateStatus.name == name, TemplateStatus.language.in_((language, "")))
        .order_by(TemplateStatus.updated_at.desc())
    ).first()
    if row is None or row.status not in REFUSED_STATUSES:
        return None
    because = f": {row.reason}" if row.reason else ""
    return (
        REFUSED_STATUSES[row.status],
        f"Meta marked template '{name}' {row.status}{because}. Pick another template.",
    )


def _preference(session: Session, choice: dict[str, Any], now: datetime) -> None:
    wa_id = read.text(choice.get("wa_id"))
    category = read.text(choice.get("category")) or "marketing_messages"
    value = read.text(choice.get("value"))
    if not wa_id or not value:
        return
    identity = find_current_identity(session, Channel.WHATSAPP, wa_id_forms(wa_id))
    if identity is None:
        return  # someone Kazi never met: the raw event is kept
    at = read.timestamp(choice.get("timestamp"))
    when = datetime.fromtimestamp(at, UTC) if at is not None else now
    record_preference(session, identity.contact_id, category, value, "user_preferences", when)


def record_preference(
    session: Session, contact_id: int, category: str, value: str, source: str, at: datetime
) -> None:
    """Keep the customer's newest choice for the category (an older one arriving late
    does not undo it)."""
    row = session.scalars(
        select(MessagingPreference).where(
            MessagingPreference.contact_id == contact_id, MessagingPreference.category == category
        )
    ).first()
    if row is None:
        session.add(
            MessagingPreference(
                contact_id=contact_id, category=category, value=value, source=source, changed_at=at
            )
        )
    elif row.changed_at <= at:
        row.value, row.source, row.changed_at = value, source, at
    session.flush()


def _template(session: Session, value: dict[str, Any], now: datetime) -> TemplateStatus:
    name = read.text(value.get("message_template_name")) or "?"
    language = read.text(value.get("message_template_language")) or ""
    row = session.scalars(
        select(TemplateStatus).where(
            TemplateStatus.name == name, TemplateStatus.language == language
        )
    ).first()
    if row is None:
        row = TemplateStatus(name=name, language=language, updated_at=now)
        session.add(row)
    row.provider_template_id = read.text(value.get("message_template_id"))
    row.updated_at = now
    return row


def _summary(value: dict[str, Any]) -> str:
    parts = []
    for key in (
        "event",
        "decision",
        "current_limit",
        "display_phone_number",
        "requested_verified_name",
        "rejection_reason",
        "alert_type",
        "alert_description",
    ):
        text = read.text(value.get(key))
        if text:
            parts.append(text)
    info = read.mapping(value.get("ban_info")) or read.mapping(value.get("violation_info"))
    parts += [t for t in (read.text(v) for v in info.values()) if t]
    return ", ".join(parts)[:500] or "see the stored event"
