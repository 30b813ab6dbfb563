"""The customer record for the inbox and the API: a contact, their addresses (with
history), company, conversations, business objects, tasks, tags and fields; and
correcting it by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.inbox.audit import record
from engine.inbox.errors import InvalidInput, NotFound
from engine.inbox.queues import display_name
from engine.models import (
    BusinessObject,
    Company,
    Contact,
    ContactMerge,
    Conversation,
    ConversationTag,
    Identity,
    Task,
    Teammate,
    WebSession,
)

# A merge chain longer than this is a bug, not a history: stop instead of looping.
_MAX_MERGE_HOPS = 32


@dataclass(frozen=True)
class IdentityView:
    channel: str
    address: str
    current: bool
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    status: str
    owner_id: int | None
    stage: str | None
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class BusinessObjectSummary:
    id: int
    kind: str
    external_ref: str | None
    status: str
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class ContactLink:
    id: int
    name: str


@dataclass(frozen=True)
class TaskSummary:
    id: int
    title: str
    due_at: datetime | None
    done_at: datetime | None
    assignee: str | None
    conversation_id: int | None
    business_object_id: int | None


@dataclass(frozen=True)
class MergeSummary:
    id: int
    merged: ContactLink
    merged_at: datetime
    undone_at: datetime | None


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    profile_name: str | None
    language: str | None
    fields: dict[str, object]
    identities: list[IdentityView]
    conversations: list[ConversationSummary]
    business_objects: list[BusinessObjectSummary]
    company: ContactLink | None = None
    # The company's other contacts, so a colleague is one click away.
    colleagues: list[ContactLink] = field(default_factory=list)
    tasks: list[TaskSummary] = field(default_factory=list)
    # Every tag on any of the contact's conversations.
    tags: list[str] = field(default_factory=list)
    merges: list[MergeSummary] = field(default_factory=list)
    erased_at: datetime | None = None


def surviving_contact(session: Session, contact_id: int) -> Contact:
    """The contact `contact_id` names now: itself, or the contact it was merged into
    (following later merges too). NotFound when no such contact is in this workspace."""
    contact = session.get(Contact, contact_id)
    for _ in range(_MAX_MERGE_HOPS):
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        if contact.merged_into_id is None:
            return contact
        contact = session.get(Contact, contact.merged_into_id)
    raise NotFound(f"contact {contact_id} leads through too many merges")


def contact_view(
    session: Session, principal: Principal, contact_id: int, *, audit_at: datetime | None = None
) -> ContactView:
    """One contact's record; a merged contact's id gives the survivor's record (its
    `id` says which). With `audit_at`, the view is written to the audit log
    (DESIGN: views of customer data are audited); the caller commits."""
    require(principal, Action.VIEW_CONTACT)
    contact = surviving_contact(session, contact_id)
    if audit_at is not None:
        record(
            session, principal, "view", subject_kind="contact", subject_id=contact.id, now=audit_at
        )
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact.id)
    object_ids = select(BusinessObject.id).where(BusinessObject.contact_id == contact.id)
    company = contact.company
    return ContactView(
        id=contact.id,
        name=display_name(contact),
        profile_name=contact.profile_name,
        language=contact.language,
        fields=dict(contact.fields or {}),
        company=ContactLink(company.id, company.name) if company is not None else None,
        colleagues=[
            ContactLink(c.id, display_name(c))
            for c in session.scalars(
                select(Contact)
                .where(
                    Contact.company_id == contact.company_id,
                    Contact.id != contact.id,
                    Contact.merged_into_id.is_(None),
                )
                .order_by(Contact.name, Contact.id)
                .limit(100)
            )
        ]
        if company is not None
        else [],
        tasks=[
            TaskSummary(
                t.id,
                t.title,
                t.due_at,
                t.done_at,
                t.assignee.name if t.assignee is not None else None,
                t.conversation_id,
                t.business_object_id,
            )
            for t in session.scalars(
                select(Task)
                .where(
                    or_(
                        Task.conversation_id.in_(conversation_ids),
                        Task.business_object_id.in_(object_ids),
                    )
                )
                .order_by(Task.done_at.is_not(None), Task.due_at, Task.id)
            )
        ],
        tags=list(
            session.scalars(
                select(ConversationTag.name)
                .where(ConversationTag.conversation_id.in_(conversation_ids))
                .distinct()
                .order_by(ConversationTag.name)
            )
        ),
        merges=[
            MergeSummary(
                m.id, ContactLink(merged.id, display_name(merged)), m.merged_at, m.undone_at
            )
            for m, merged in session.execute(
                select(ContactMerge, Contact)
                .join(Contact, Contact.id == ContactMerge.merged_id)
                .where(ContactMerge.survivor_id == contact.id)
                .order_by(ContactMerge.merged_at.desc(), ContactMerge.id.desc())
            ).tuples()
        ],
        erased_at=contact.erased_at,
        identities=[
            IdentityView(i.channel, i.address, i.is_current, i.valid_from, i.valid_to)
            for i in session.scalars(
                select(Identity)
                .where(Identity.contact_id == contact.id)
                .order_by(Identity.valid_from)
            )
        ],
        conversations=[
            ConversationSummary(c.id, c.status, c.owner_id, c.stage, c.opened_at, c.resolved_at)
            for c in session.scalars(
                select(Conversation)
                .where(Conversation.contact_id == contact.id)
                .order_by(Conversation.opened_at.desc())
            )
        ],
        business_objects=[
            BusinessObjectSummary(b.id, b.kind, b.external_ref, b.status, b.amount, b.currency)
            for b in session.scalars(
                select(BusinessObject)
                .where(BusinessObject.contact_id == contact.id)
                .order_by(BusinessObject.id)
            )
        ],
    )


def find_contacts(
    session: Session, principal: Principal, text: str, limit: int = 50
) -> list[Contact]:
    """Contacts whose name, WhatsApp name or any address contains `text` (merged
    contacts are found as their survivor, so they are left out)."""
    require(principal, Action.VIEW_CONTACT)
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.merged_into_id.is_(None),
                or_(
                    Contact.name.ilike(pattern, escape="\\"),
                    Contact.profile_name.ilike(pattern, escape="\\"),
                    exists().where(
                        Identity.contact_id == Contact.id,
                        Identity.address.ilike(pattern, escape="\\"),
                    ),
                ),
            )
            .order_by(Contact.id)
            .limit(limit)
        )
    )


# --- correcting the record by hand -----------------------------------------------------

MAX_NAME = 200
MAX_FIELDS = 50
MAX_FIELD_VALUE = 1000
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# A BCP 47 language tag as people write them: "sw", "en", "en-KE", "pt-BR".
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")


@dataclass(frozen=True)
class ContactEdit:
    """What to change; None leaves a part as it is. An empty `name`, `language` or
    `company` clears it; `fields` replaces the contact's fields as a whole."""

    name: str | None = None
    language: str | None = None
    company: str | None = None  # a company's name: picked when it exists, else created
    fields: dict[str, str] | None = None


def parse_fields(text: str) -> dict[str, str]:
    """Fields typed one `key: value` a line, as the record page's form sends them."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise InvalidInput(f"fields, line {number}: write it as `key: value`")
        key = key.strip()
        if key in fields:
            raise InvalidInput(f"fields, line {number}: {key!r} is given twice")
        fields[key] = value.strip()
    return fields


def checked_edit(edit: ContactEdit) -> ContactEdit:
    """`edit` tidied (spaces trimmed, language lower-cased), or InvalidInput naming
    the part that is wrong and why."""
    name = edit.name.strip() if edit.name is not None else None
    if name is not None and len(name) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters")
    language = edit.language.strip() if edit.language is not None else None
    if language:
        language = language[:1].lower() + language[1:]
        if not LANGUAGE.match(language) or len(language) > 16:
            raise InvalidInput(f"language: {language!r} is not a language code like sw or en-KE")
    company = edit.company.strip() if edit.company is not None else None
    if company is not None and len(company) > MAX_NAME:
        raise InvalidInput(f"company: at most {MAX_NAME} characters")
    fields = None
    if edit.fields is not None:
        if len(edit.fields) > MAX_FIELDS:
            raise InvalidInput(f"fields: at most {MAX_FIELDS}")
        fields = {}
        for key, value in edit.fields.items():
            if not isinstance(key, str) or not FIELD_KEY.match(key):
                raise InvalidInput(
                    f"fields: {key!r} is not a field name (lower-case letters, digits "
                    "and _, starting with a letter)"
                )
            if not isinstance(value, str):
                raise InvalidInput(f"fields: {key} must be text")
            if len(value.strip()) > MAX_FIELD_VALUE:
                raise InvalidInput(f"fields: {key} may have at most {MAX_FIELD_VALUE} characters")
            fields[key] = value.strip()
    return ContactEdit(name=name, language=language, company=company, fields=fields)


def _company_named(session: Session, name: str) -> Company:
    found = session.scalars(
        select(Company).where(func.lower(Company.name) == name.lower()).order_by(Company.id)
    ).first()
    if found is None:
        found = Company(name=name)
        session.add(found)
        session.flush()
    return found


def edit_contact(
    session: Session, principal: Principal, contact_id: int, edit: ContactEdit, now: datetime
) -> dict[str, dict[str, Any]]:
    """Apply `edit` to the contact and audit who changed what, from what to what.
    Returns the changes ({part: {"from": ..., "to": ...}}); nothing changed, nothing
    is recorded. The caller commits."""
    require(principal, Action.EDIT_CONTACT)
    wanted = checked_edit(edit)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    if contact.merged_into_id is not None:
        raise InvalidInput(
            f"contact {contact.id} was merged into contact {contact.merged_into_id}: edit that one"
        )
    if contact.erased_at is not None:
        raise InvalidInput("this contact was erased; there is nothing to edit")
    changes: dict[str, dict[str, Any]] = {}
    if wanted.name is not None and (wanted.name or None) != contact.name:
        changes["name"] = {"from": contact.name, "to": wanted.name or None}
        contact.name = wanted.name or None
    if wanted.language is not None and (wanted.language or None) != contact.language:
        changes["language"] = {"from": contact.language, "to": wanted.language or None}
        contact.language = wanted.language or None
    if wanted.company is not None:
        before = contact.company.name if contact.company is not None else None
        company = _company_named(session, wanted.company) if wanted.company else None
        if (company.id if company else None) != contact.company_id:
            changes["company"] = {"from": before, "to": company.name if company else None}
            contact.company = company
    if wanted.fields is not None and wanted.fields != (contact.fields or {}):
        old = dict(contact.fields or {})
        changes["fields"] = {
            "from": {k: v for k, v in old.items() if wanted.fields.get(k) != v},
            "to": {k: v for k, v in wanted.fields.items() if old.get(k) != v},
        }
        contact.fields = dict(wanted.fields)
    if changes:
        record(
            session,
            principal,
            "edit",
            subject_kind="contact",
            subject_id=contact.id,
            now=now,
            changes=changes,
        )
        session.flush()
    return changes


def company_names(session: Session, principal: Principal, limit: int = 200) -> list[str]:
    """Companies to pick from on the record page."""
    require(principal, Action.VIEW_CONTACT)
    return list(session.scalars(select(Company.name).order_by(Company.name).limit(limit)))


@dataclass(frozen=True)
class TeammateRow:
    id: int
    handle: str
    name: str
    role: str
    active: bool
    has_password: bool
    live_sessions: int
    away: bool = False  # set themselves away: routing passes them over


def team_overview(session: Session, principal: Principal, now: datetime) -> list[TeammateRow]:
    """Teammates with their sign-in state, for the admin's page."""
    require(principal, Action.MANAGE_TEAMMATES)
    live: dict[int, int] = {
        teammate_id: count
        for teammate_id, count in session.execute(
            select(WebSession.teammate_id, func.count(WebSession.id))
            .where(WebSession.ended_at.is_(None), WebSession.expires_at > now)
            .group_by(WebSession.teammate_id)
        )
    }
    return [
        TeammateRow(
            t.id,
            t.handle,
            t.name,
            t.role,
            t.active,
            bool(t.password_hash),
            live.get(t.id, 0),
            t.away,
        )
        for t in session.scalars(select(Teammate).order_by(Teammate.name))
    ]
