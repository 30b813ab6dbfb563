"""Who of a segment a broadcast reaches, and why each other person is skipped.

Decided in bulk (a few queries per 900 people), the same way for the preview a manager
sees and for the job that queues the sends, so the count shown is the count sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.whatsapp.numbers import is_bsuid
from engine.broadcasts.variables import Person, fill
from engine.contacts.segments import Segment
from engine.core.config import BroadcastSegment, Template
from engine.models import (
    Channel,
    ConsentState,
    Contact,
    ContactConsent,
    Identity,
)
from engine.models.templates import MessagingPreference

NO_NUMBER = "no WhatsApp number"
NO_OPT_IN = "no opt-in recorded"
OPTED_OUT = "opted out"
OPTED_OUT_THEMSELVES = "opted out (their own word)"
STOPPED_MARKETING = "stopped marketing messages on WhatsApp"


@dataclass(frozen=True)
class Verdict:
    contact_id: int
    reason: str | None  # None: they receive it
    values: tuple[str, ...] = ()


def segment_of_config(segment: BroadcastSegment) -> Segment:
    return Segment(
        tags=segment.tags,
        language=segment.language,
        fields=dict(segment.fields),
        stage=segment.stage,
        active_days=segment.active_days,
    )


def judge(
    session: Session, contact_ids: Sequence[int], template: Template, sources: Sequence[str]
) -> list[Verdict]:
    """For each contact (at most a chunk of them), whether they receive the broadcast."""
    ids = list(contact_ids)
    if not ids:
        return []
    people = {
        cid: Person(name or profile or "", language or "", dict(fields or {}))
        for cid, name, profile, language, fields in session.execute(
            select(
                Contact.id, Contact.name, Contact.profile_name, Contact.language, Contact.fields
            ).where(Contact.id.in_(ids))
        )
    }
    reachable: set[int] = {
        cid
        for cid, address in session.execute(
            select(Identity.contact_id, Identity.address).where(
                Identity.contact_id.in_(ids),
                Identity.channel == Channel.WHATSAPP,
                Identity.is_current.is_(True),
            )
        )
        if not is_bsuid(address)
    }
    consent = {
        cid: (state, by_customer)
        for cid, state, by_customer in session.execute(
            select(
                ContactConsent.contact_id, ContactConsent.state, ContactConsent.by_customer
            ).where(ContactConsent.contact_id.in_(ids))
        )
    }
    stopped: set[int] = set()
    if template.category == "marketing":
        stopped = set(
            session.scalars(
                select(MessagingPreference.contact_id).where(
                    MessagingPreference.contact_id.in_(ids),
                    MessagingPreference.category == "marketing_messages",
                    MessagingPreference.value == "stop",
                )
            )
        )
    verdicts: list[Verdict] = []
    for cid in ids:
        state, by_customer = consent.get(cid, (None, False))
        if state == ConsentState.OPTED_OUT:
            reason: str | None = OPTED_OUT_THEMSELVES if by_customer else OPTED_OUT
        elif state != ConsentState.OPTED_IN:
            reason = NO_OPT_IN
        elif cid not in reachable:
            reason = NO_NUMBER
        elif cid in stopped:
            reason = STOPPED_MARKETING
        else:
            reason = None
        if reason is not None or cid not in people:
            verdicts.append(Verdict(cid, reason or "contact is gone"))
            continue
        filled = fill(sources, people[cid])
        if isinstance(filled, str):
            verdicts.append(Verdict(cid, filled))
        else:
            verdicts.append(Verdict(cid, None, tuple(filled)))
    return verdicts
