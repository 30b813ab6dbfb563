"""A segment: the contacts that share tags, a language, a field value or consent. Exports
(and later broadcasts) select people through it, so both pick exactly the same people."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.contacts.csv_import import Target
from engine.contacts.people import checked_tags
from engine.inbox.audit import record
from engine.inbox.contacts import parse_fields
from engine.inbox.errors import InvalidInput, NotFound
from engine.models import (
    Channel,
    Company,
    ConsentState,
    Contact,
    ContactConsent,
    ContactTag,
    Conversation,
    ConversationStatus,
    Identity,
    SavedSegment,
)

CHUNK = 900
_OPT_IN_CELL = {ConsentState.OPTED_IN.value: "yes", ConsentState.OPTED_OUT.value: "no"}


@dataclass(frozen=True)
class Segment:
    """Who is in: every one of `tags`, the `language`, every `fields` value, a conversation
    now in `stage`, a message from them in the last `active_days` days, and with
    `opted_in` only those whose latest word is an opt-in. An empty part selects all."""

    tags: tuple[str, ...] = ()
    language: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    opted_in: bool = False
    stage: str | None = None
    active_days: int | None = None

    @classmethod
    def of(
        cls,
        tags: str = "",
        language: str = "",
        opted_in: bool = False,
        *,
        stage: str = "",
        active_days: str = "",
        fields: str = "",
    ) -> Segment:
        """A segment from what a person typed in the filter form; InvalidInput if wrong."""
        days = active_days.strip()
        if days and (not days.isdigit() or not 0 < int(days) <= 3650):
            raise InvalidInput("active in the last N days: a whole number of days, 1 to 3650")
        return cls(
            tags=checked_tags(tags.replace(";", ",").split(",")),
            language=language.strip() or None,
            fields=parse_fields(fields) if fields.strip() else {},
            opted_in=opted_in,
            stage=stage.strip() or None,
            active_days=int(days) if days else None,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "tags": list(self.tags),
            "language": self.language,
            "fields": dict(self.fields),
            "opted_in": self.opted_in,
            "stage": self.stage,
            "active_days": self.active_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(
            tags=tuple(data.get("tags") or ()),
            language=data.get("language"),
            fields=dict(data.get("fields") or {}),
            opted_in=bool(data.get("opted_in")),
            stage=data.get("stage"),
            active_days=data.get("active_days"),
        )

    def form_values(self) -> dict[str, str]:
        """The filter form's fields that give this segment back."""
        return {
            "tags": ", ".join(self.tags),
            "language": self.language or "",
            "opted_in": "1" if self.opted_in else "",
            "stage": self.stage or "",
            "active_days": str(self.active_days or ""),
            "fields": "\n".join(f"{k}: {v}" for k, v in self.fields.items()),
        }

    def describe(self) -> str:
        parts = [f"tag {t}" for t in self.tags]
        if self.language:
            parts.append(f"language {self.language}")
        parts += [f"{k} = {v}" for k, v in self.fields.items()]
        if self.stage:
            parts.append(f"in stage {self.stage}")
        if self.active_days:
            parts.append(f"wrote in the last {self.active_days} days")
        if self.opted_in:
            parts.append("opted in")
        return ", ".join(parts) or "every contact"


def segment_query(segment: Segment, now: datetime | None = None) -> Select[tuple[int]]:
    """Ids of the segment's contacts (merged and erased contacts are never in one).
    `now` is needed when the segment counts recent activity."""
    query = select(Contact.id).where(Contact.merged_into_id.is_(None), Contact.erased_at.is_(None))
    for tag in segment.tags:
        query = query.where(
            exists().where(ContactTag.contact_id == Contact.id, ContactTag.name == tag)
        )
    if segment.language:
        query = query.where(Contact.language == segment.language)
    for key, value in segment.fields.items():
        query = query.where(Contact.fields[key].as_string() == value)
    if segment.stage:
        query = query.where(
            exists().where(
                Conversation.contact_id == Contact.id,
                Conversation.stage == segment.stage,
                Conversation.status != ConversationStatus.RESOLVED,
            )
        )
    if segment.active_days:
        if now is None:
            raise ValueError("a segment of recent activity needs the time now")
        query = query.where(
            exists().where(
                Conversation.contact_id == Contact.id,
                Conversation.last_customer_message_at >= now - timedelta(days=segment.active_days),
            )
        )
    if segment.opted_in:
        query = query.where(
            exists().where(
                ContactConsent.contact_id == Contact.id,
                ContactConsent.state == ConsentState.OPTED_IN,
            )
        )
    return query.order_by(Contact.id)


def save_segment(
    session: Session, principal: Principal, name: str, segment: Segment, now: datetime
) -> SavedSegment:
    """Keep the segment under `name` (replacing one of that name). The caller commits."""
    require(principal, Action.EXPORT_CONTACTS)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("segment name: 1 to 100 characters")
    saved = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).first()
    if saved is None:
        saved = SavedSegment(name=name, created_at=now, created_by_id=principal.teammate_id)
        session.add(saved)
    saved.definition = segment.as_json()
    session.flush()
    return saved


def saved_segments(session: Session) -> list[SavedSegment]:
    return list(session.scalars(select(SavedSegment).order_by(SavedSegment.name)))


def saved_segment(session: Session, segment_id: int) -> tuple[str, Segment]:
    saved = session.get(SavedSegment, segment_id)
    if saved is None:
        raise NotFound(f"no segment {segment_id}")
    return saved.name, Segment.from_json(dict(saved.definition or {}))


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def export_segment(
    session: Session, principal: Principal, segment: Segment, now: datetime
) -> tuple[str, int]:
    """The segment's contacts as CSV, in the columns an import reads back (so a list can
    go out, be corrected in a sheet and come back in); and how many. The export is
    audited (DESIGN: exports of customer data). The caller commits."""
    require(principal, Action.EXPORT_CONTACTS)
    ids = list(session.scalars(segment_query(segment, now)))
    contacts: dict[int, tuple[str | None, str | None, str | None, dict[str, object]]] = {}
    numbers: dict[int, list[str]] = {}
    tags: dict[int, list[str]] = {}
    consents: dict[int, tuple[str, datetime, str | None]] = {}
    for chunk in _chunks(ids):
        for cid, name, profile_name, language, fields, company in session.execute(
            select(
                Contact.id,
                Contact.name,
                Contact.profile_name,
                Contact.language,
                Contact.fields,
                Company.name,
            )
            .outerjoin(Company, Company.id == Contact.company_id)
            .where(Contact.id.in_(chunk))
        ):
            # The name they gave on WhatsApp when nobody wrote one down.
            contacts[cid] = (name or profile_name, language, company, dict(fields or {}))
        for cid, address in session.execute(
            select(Identity.contact_id, Identity.address)
            .where(
                Identity.contact_id.in_(chunk),
                Identity.channel == Channel.WHATSAPP,
                Identity.is_current.is_(True),
            )
            .order_by(Identity.valid_from, Identity.id)
        ):
            numbers.setdefault(cid, []).append(address)
        for cid, tag in session.execute(
            select(ContactTag.contact_id, ContactTag.name)
            .where(ContactTag.contact_id.in_(chunk))
            .order_by(ContactTag.name)
        ):
            tags.setdefault(cid, []).append(tag)
        for cid, state, at, detail in session.execute(
            select(
                ContactConsent.contact_id,
                ContactConsent.state,
                ContactConsent.changed_at,
                ContactConsent.detail,
            ).where(ContactConsent.contact_id.in_(chunk))
        ):
            consents[cid] = (state, at, detail)
    field_keys = sorted({k for c in contacts.values() for k in c[3]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            Target.NAME,
            Target.PHONE,
            Target.COMPANY,
            Target.LANGUAGE,
            Target.TAGS,
            Target.OPT_IN,
            Target.OPT_IN_AT,
            "opt_in_source",
            *field_keys,
        ]
    )
    written = 0
    for cid in ids:
        if cid not in contacts or not numbers.get(cid):
            continue  # nobody to reach: no current WhatsApp number
        name, language, company, fields = contacts[cid]
        state, at, detail = consents.get(cid, (None, None, None))
        for address in numbers[cid]:
            writer.writerow(
                [
                    _safe(name or ""),
                    address,
                    _safe(company or ""),
                    language or "",
                    ", ".join(tags.get(cid, [])),
                    _OPT_IN_CELL.get(state or "", ""),
                    at.isoformat() if at and state == ConsentState.OPTED_IN else "",
                    _safe(detail or ""),
                    *(_safe(str(fields.get(k, ""))) for k in field_keys),
                ]
            )
        written += 1
    record(
        session,
        principal,
        "export",
        subject_kind="contacts",
        subject_id=None,
        now=now,
        segment=segment.describe(),
        contacts=written,
    )
    return out.getvalue(), written


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): customer-written
    text starting with = + - @ gets a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class ContactRow:
    id: int
    name: str
    numbers: tuple[str, ...]
    tags: tuple[str, ...]
    consent: str | None
    language: str | None


def contact_rows(
    session: Session,
    principal: Principal,
    *,
    text: str = "",
    segment: Segment,
    now: datetime,
    limit: int = 100,
) -> list[ContactRow]:
    """Contacts for the Contacts page: those in the segment whose name or number
    contains `text`, newest first."""
    require(principal, Action.VIEW_CONTACT)
    query = segment_query(segment, now).order_by(None).order_by(Contact.id.desc()).limit(limit)
    if text.strip():
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            Contact.name.ilike(pattern, escape="\\")
            | Contact.profile_name.ilike(pattern, escape="\\")
            | exists().where(
                Identity.contact_id == Contact.id,
                Identity.is_current.is_(True),
                Identity.address.ilike(pattern, escape="\\"),
            )
        )
    ids = list(session.scalars(query))
    if not ids:
        return []
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    numbers: dict[int, list[str]] = {}
    for cid, address in session.execute(
        select(Identity.contact_id, Identity.address)
        .where(Identity.contact_id.in_(ids), Identity.is_current.is_(True))
        .order_by(Identity.id)
    ):
        numbers.setdefault(cid, []).append(address)
    tags: dict[int, list[str]] = {}
    for cid, tag in session.execute(
        select(ContactTag.contact_id, ContactTag.name)
        .where(ContactTag.contact_id.in_(ids))
        .order_by(ContactTag.name)
    ):
        tags.setdefault(cid, []).append(tag)
    consent: dict[int, str] = {
        cid: state
        for cid, state in session.execute(
            select(ContactConsent.contact_id, ContactConsent.state).where(
                ContactConsent.contact_id.in_(ids)
            )
        )
    }
    return [
        ContactRow(
            id=cid,
            name=contacts[cid].name or contacts[cid].profile_name or f"Contact {cid}",
            numbers=tuple(numbers.get(cid, ())),
            tags=tuple(tags.get(cid, ())),
            consent=consent.get(cid),
            language=contacts[cid].language,
        )
        for cid in ids
    ]
