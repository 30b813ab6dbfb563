"""Merging two contacts who are one person, and undoing it.

Everything of the merged contact moves to the survivor; the merged contact stays
as a row pointing at the survivor, and a ContactMerge row keeps the id of every
row that moved. Undo moves exactly those rows back, so whatever reached the
survivor since (a new message, a new conversation) stays where it is.

The database allows one unresolved conversation per contact and business number
(`uq_conversations_one_open`). When both contacts have one on the same number,
the merge resolves the one with older activity, with a note, and records its
former state so Undo can reopen it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of, record
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.queues import display_name
from engine.models import (
    AuthorKind,
    BusinessObject,
    ConsentEvent,
    Contact,
    ContactConsent,
    ContactMerge,
    ContactTag,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Identity,
    Message,
    Note,
)

# Attributes a survivor takes from the merged contact when its own is empty.
_FILLABLE = ("name", "profile_name", "language", "company_id")


# --- the decision, pure ---------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str | None
    profile_name: str | None
    language: str | None
    company_id: int | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class Thread:
    id: int
    business_number: str
    open: bool
    last_activity: datetime


@dataclass(frozen=True)
class MergePlan:
    # Open threads that would make two on one number: the older of each pair.
    to_resolve: dict[int, int]  # resolved conversation id -> the one that continues
    filled: dict[str, Any] = field(default_factory=dict)


def plan_merge(
    survivor: Profile,
    merged: Profile,
    survivor_threads: list[Thread],
    merged_threads: list[Thread],
) -> MergePlan:
    """What a merge must decide beyond "move everything": which open conversations
    clash and which is resolved, and which empty parts of the survivor are filled."""
    open_here = {t.business_number: t for t in survivor_threads if t.open}
    to_resolve: dict[int, int] = {}
    for thread in merged_threads:
        other = open_here.get(thread.business_number)
        if not thread.open or other is None:
            continue
        older, newer = sorted((thread, other), key=lambda t: (t.last_activity, t.id))
        to_resolve[older.id] = newer.id
    filled: dict[str, Any] = {}
    for attribute in _FILLABLE:
        mine, theirs = getattr(survivor, attribute), getattr(merged, attribute)
        if mine in (None, "") and theirs not in (None, ""):
            filled[attribute] = theirs
    fields = {k: v for k, v in merged.fields.items() if k not in survivor.fields}
    if fields:
        filled["fields"] = fields
    return MergePlan(to_resolve=to_resolve, filled=filled)


# --- reading what a merge would do -----------------------------------------------------


@dataclass(frozen=True)
class MergePreview:
    survivor_id: int
    survivor_name: str
    merged_id: int
    merged_name: str
    addresses: list[str]
    conversations: list[int]
    business_objects: int
    messages: int
    tags: list[str]
    filled: dict[str, Any]
    # "#12 (older) is resolved; #15 continues"
    resolved: dict[int, int]


def _profile(contact: Contact) -> Profile:
    return Profile(
        contact.name,
        contact.profile_name,
        contact.language,
        contact.company_id,
        dict(contact.fields or {}),
    )


def _threads(session: Session, contact_id: int) -> list[Thread]:
    return [
        Thread(
            c.id,
            c.business_number,
            c.status != ConversationStatus.RESOLVED,
            c.last_customer_message_at or c.opened_at,
        )
        for c in session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.id)
        )
    ]


def _lock_contacts(session: Session, *ids: int) -> dict[int, Contact]:
    """Both contacts, row-locked on PostgreSQL so two merges of one contact queue up
    (SQLite serialises writers already)."""
    statement = select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return {c.id: c for c in session.scalars(statement)}


def _pair(session: Session, survivor_id: int, merged_id: int) -> tuple[Contact, Contact]:
    if survivor_id == merged_id:
        raise InvalidInput("a contact cannot be merged into itself")
    found = _lock_contacts(session, survivor_id, merged_id)
    for contact_id in (survivor_id, merged_id):
        contact = found.get(contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        if contact.merged_into_id is not None:
            raise Conflict(
                f"contact {contact_id} was already merged into contact {contact.merged_into_id}"
            )
        if contact.erased_at is not None:
            raise Conflict(f"contact {contact_id} was erased and cannot be merged")
    return found[survivor_id], found[merged_id]


def preview_merge(
    session: Session, principal: Principal, survivor_id: int, merged_id: int
) -> MergePreview:
    """What merging `merged_id` into `survivor_id` would move, for the confirm step."""
    require(principal, Action.MERGE_CONTACTS)
    survivor, merged = _pair(session, survivor_id, merged_id)
    plan = plan_merge(
        _profile(survivor),
        _profile(merged),
        _threads(session, survivor.id),
        _threads(session, merged.id),
    )
    conversations = select(Conversation.id).where(Conversation.contact_id == merged.id)
    return MergePreview(
        survivor_id=survivor.id,
        survivor_name=display_name(survivor),
        merged_id=merged.id,
        merged_name=display_name(merged),
        addresses=list(
            session.scalars(
                select(Identity.address)
                .where(Identity.contact_id == merged.id)
                .order_by(Identity.id)
            )
        ),
        conversations=list(session.scalars(conversations.order_by(Conversation.id))),
        business_objects=session.scalar(
            select(func.count())
            .select_from(BusinessObject)
            .where(BusinessObject.contact_id == merged.id)
        )
        or 0,
        messages=session.scalar(
            select(func.count()).select_from(Message).where(Message.author_contact_id == merged.id)
        )
        or 0,
        tags=list(
            session.scalars(
                select(ConversationTag.name)
                .where(ConversationTag.conversation_id.in_(conversations))
                .distinct()
                .order_by(ConversationTag.name)
            )
        ),
        filled=plan.filled,
        resolved=plan.to_resolve,
    )


# --- merging ---------------------------------------------------------------------------


def _ids(session: Session, column: Any, *where: Any) -> list[int]:
    return list(session.scalars(select(column).where(*where).order_by(column)))


def _resolve_for_merge(
    desk: Desk, principal: Principal, conversation_id: int, continues_in: int, now: datetime
) -> dict[str, Any]:
    session = desk.session
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None  # found by _threads in this transaction
    before = {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "waiting_on": conversation.waiting_on,
        "snoozed_until": conversation.snoozed_until.isoformat()
        if conversation.snoozed_until
        else None,
    }
    resolve = fx.SetField(
        "", owner="conversation", field="status", value=ConversationStatus.RESOLVED.value
    )
    desk.change(conversation.id, actor_of(principal), [resolve], now)
    note = Note(
        conversation_id=conversation.id,
        body=(
            "Resolved by merging two contacts who are one person: "
            f"this customer's conversation continues in #{continues_in}."
        ),
        author_kind=AuthorKind.TEAMMATE,
        author_teammate_id=principal.teammate_id,
        author_rule=None if principal.is_teammate else principal.name,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return {**before, "note_id": note.id}


def merge_contacts(
    desk: Desk, principal: Principal, survivor_id: int, merged_id: int, now: datetime
) -> ContactMerge:
    """Move everything of `merged_id` to `survivor_id` and record exactly what moved.
    Audited on both contacts; the caller commits."""
    session = desk.session
    require(principal, Action.MERGE_CONTACTS)
    survivor, merged = _pair(session, survivor_id, merged_id)
    plan = plan_merge(
        _profile(survivor),
        _profile(merged),
        _threads(session, survivor.id),
        _threads(session, merged.id),
    )
    resolved = [
        _resolve_for_merge(desk, principal, conversation_id, continues_in, now)
        for conversation_id, continues_in in sorted(plan.to_resolve.items())
    ]
    moved: dict[str, Any] = {
        "identities": _ids(session, Identity.id, Identity.contact_id == merged.id),
        "conversations": _ids(session, Conversation.id, Conversation.contact_id == merged.id),
        "business_objects": _ids(
            session, BusinessObject.id, BusinessObject.contact_id == merged.id
        ),
        "messages": _ids(session, Message.id, Message.author_contact_id == merged.id),
        # The person's tags the survivor lacks, and their consent with its history: the
        # consent itself only when the survivor has none (an opt-out never gets lost).
        "contact_tags": _ids(
            session,
            ContactTag.id,
            ContactTag.contact_id == merged.id,
            ContactTag.name.not_in(
                select(ContactTag.name).where(ContactTag.contact_id == survivor.id)
            ),
        ),
        "consents": _ids(
            session,
            ContactConsent.id,
            ContactConsent.contact_id == merged.id,
            ~exists().where(ContactConsent.contact_id == survivor.id),
        ),
        "consent_events": _ids(session, ConsentEvent.id, ConsentEvent.contact_id == merged.id),
        # Messages after this one arrived once the merge was done.
        "last_message_id": session.scalar(select(func.max(Message.id))) or 0,
        "resolved": resolved,
    }
    _move(session, moved, merged.id, survivor.id)
    for attribute, value in plan.filled.items():
        if attribute == "fields":
            survivor.fields = {**(survivor.fields or {}), **value}
        else:
            setattr(survivor, attribute, value)
    merged.merged_into_id = survivor.id
    merge = ContactMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        merged_by_id=principal.teammate_id,
        merged_at=now,
        moved=moved,
        filled=plan.filled,
    )
    session.add(merge)
    session.flush()
    counts = {k: len(v) for k, v in moved.items() if isinstance(v, list)}
    record(
        session,
        principal,
        "merge",
        subject_kind="contact",
        subject_id=survivor.id,
        now=now,
        merge_id=merge.id,
        merged_id=merged.id,
        moved=counts,
        filled=sorted(plan.filled),
    )
    record(
        session,
        principal,
        "merged into",
        subject_kind="contact",
        subject_id=merged.id,
        now=now,
        merge_id=merge.id,
        survivor_id=survivor.id,
    )
    return merge


def _move(session: Session, moved: dict[str, Any], source: int, target: int) -> None:
    """Point the recorded rows from `source` to `target`, only those still at `source`."""
    for model, column, key in (
        (Conversation, Conversation.contact_id, "conversations"),
        (Identity, Identity.contact_id, "identities"),
        (BusinessObject, BusinessObject.contact_id, "business_objects"),
        (Message, Message.author_contact_id, "messages"),
        (ContactTag, ContactTag.contact_id, "contact_tags"),
        (ContactConsent, ContactConsent.contact_id, "consents"),
        (ConsentEvent, ConsentEvent.contact_id, "consent_events"),
    ):
        ids = moved.get(key) or []
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids), column == source)
                .values({column.key: target})
                .execution_options(synchronize_session="fetch")
            )
    session.flush()


# --- undoing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    merge: ContactMerge
    # Conversations the merge resolved that stay resolved: a newer one is open now.
    kept_resolved: list[int]


def merged_contact_of(session: Session, merge_id: int) -> int | None:
    """The contact a merge folded away, or None when there is no such merge here."""
    merge = session.get(ContactMerge, merge_id)
    return merge.merged_id if merge is not None else None


def undo_merge(
    desk: Desk,
    principal: Principal,
    merge_id: int,
    now: datetime,
    *,
    survivor_id: int | None = None,
) -> UndoResult:
    """Move exactly what the merge moved back to the merged contact, reopen what it
    resolved (unless a newer conversation is open on that number now) and remove
    what it filled in (unless changed since). Audited; the caller commits."""
    session = desk.session
    require(principal, Action.MERGE_CONTACTS)
    merge = session.get(ContactMerge, merge_id)
    if merge is None or survivor_id not in (None, merge.survivor_id):
        raise NotFound(
            f"no merge {merge_id}" + (f" into contact {survivor_id}" if survivor_id else "")
        )
    if merge.undone_at is not None:
        raise Conflict("this merge was already undone")
    found = _lock_contacts(session, merge.survivor_id, merge.merged_id)
    survivor, merged = found.get(merge.survivor_id), found.get(merge.merged_id)
    if survivor is None or merged is None:
        raise NotFound(f"merge {merge_id} names a contact that no longer exists")
    if survivor.erased_at is not None or merged.erased_at is not None:
        raise Conflict("a contact of this merge was erased since; it cannot be undone")
    if survivor.merged_into_id is not None:
        raise Conflict(
            f"contact {survivor.id} was itself merged into contact {survivor.merged_into_id} "
            "since: undo that merge first"
        )
    if merged.merged_into_id != survivor.id:
        raise Conflict(f"contact {merged.id} is no longer merged into contact {survivor.id}")
    moved = merge.moved
    _move(session, moved, survivor.id, merged.id)
    conversations = moved.get("conversations") or []
    if conversations:
        # What the customer wrote into a conversation that goes back is theirs too.
        session.execute(
            update(Message)
            .where(
                Message.conversation_id.in_(conversations),
                Message.author_contact_id == survivor.id,
                Message.id > int(moved.get("last_message_id") or 0),
            )
            .values(author_contact_id=merged.id)
            .execution_options(synchronize_session="fetch")
        )
    kept_resolved = [
        entry["conversation_id"]
        for entry in moved.get("resolved") or []
        if not _reopen(desk, principal, entry, merge.merged_at, now)
    ]
    for attribute, value in (merge.filled or {}).items():
        if attribute == "fields":
            fields = dict(survivor.fields or {})
            for key, field_value in value.items():
                if fields.get(key) == field_value:
                    del fields[key]
            survivor.fields = fields
        elif getattr(survivor, attribute) == value:
            setattr(survivor, attribute, None)
    merged.merged_into_id = None
    merge.undone_at = now
    merge.undone_by_id = principal.teammate_id
    session.flush()
    for subject_id, other in ((survivor.id, merged.id), (merged.id, survivor.id)):
        record(
            session,
            principal,
            "undo merge",
            subject_kind="contact",
            subject_id=subject_id,
            now=now,
            merge_id=merge.id,
            other_contact_id=other,
            kept_resolved=kept_resolved,
        )
    return UndoResult(merge=merge, kept_resolved=kept_resolved)


def _reopen(
    desk: Desk, principal: Principal, entry: dict[str, Any], merged_at: datetime, now: datetime
) -> bool:
    """Put a conversation the merge resolved back as it was; False when it must stay
    resolved because another conversation is open on its number now."""
    session = desk.session
    conversation = session.get(Conversation, entry["conversation_id"])
    note = session.get(Note, entry["note_id"]) if entry.get("note_id") else None
    if note is not None:
        session.delete(note)
    if conversation is None:
        return True
    if conversation.status != ConversationStatus.RESOLVED or conversation.resolved_at != merged_at:
        return True  # reopened or resolved again since: someone took care of it
    clash = session.scalar(
        select(Conversation.id).where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.business_number == conversation.business_number,
            Conversation.status != ConversationStatus.RESOLVED,
            Conversation.id != conversation.id,
        )
    )
    if clash is not None:
        return False
    snoozed = entry.get("snoozed_until")
    until = datetime.fromisoformat(snoozed) if snoozed else None
    if entry["status"] == ConversationStatus.SNOOZED and until is not None and until > now:
        back: fx.Effect = fx.Snooze("", until=until)
    else:
        status = entry["status"]
        if status == ConversationStatus.SNOOZED:
            status = ConversationStatus.OPEN.value  # the snooze ran out meanwhile
        back = fx.SetField("", owner="conversation", field="status", value=status)
    desk.change(conversation.id, actor_of(principal), [back], now)
    return True
