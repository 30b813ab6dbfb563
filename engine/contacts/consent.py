"""Consent: whether a person may receive messages they did not ask for.

The latest word is one row per contact (`contact_consents`), every change is kept
(`consent_events`). One rule protects the customer: an opt-out the customer sent
themselves (a STOP keyword) is undone only by the customer's own message, never by
a teammate or an imported list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ConsentEvent, ConsentState, ContactConsent


class ConsentSource(StrEnum):
    MANUAL = "manual"  # a teammate recorded what the customer told them
    IMPORT = "import"  # a column of an imported contact list
    KEYWORD = "keyword"  # the customer sent an opt-in or opt-out keyword


class ConsentRefused(ValueError):
    """The change would override the customer's own opt-out; the message says so."""


@dataclass(frozen=True)
class ConsentView:
    state: str | None  # None: no opt-in was ever recorded
    source: str | None
    detail: str | None
    changed_at: datetime | None
    by_customer: bool

    @property
    def opted_in(self) -> bool:
        return self.state == ConsentState.OPTED_IN


NO_CONSENT = ConsentView(None, None, None, None, False)


def consent_of(session: Session, contact_id: int) -> ConsentView:
    row = session.scalars(
        select(ContactConsent).where(ContactConsent.contact_id == contact_id)
    ).first()
    if row is None:
        return NO_CONSENT
    return ConsentView(row.state, row.source, row.detail, row.changed_at, row.by_customer)


def why_not_reachable(consent: ConsentView) -> str | None:
    """None when the business may start a conversation with this person; else why not,
    in words a teammate can act on."""
    if consent.state == ConsentState.OPTED_OUT:
        if consent.by_customer:
            return (
                "this customer opted out themselves; only a message from them can opt them back in"
            )
        return "this contact is opted out; record their opt-in first"
    if consent.state != ConsentState.OPTED_IN:
        return (
            "no opt-in is recorded for this contact: WhatsApp requires their consent before "
            "the business writes first; record when and how they agreed"
        )
    return None


def record_consent(
    session: Session,
    contact_id: int,
    state: ConsentState,
    *,
    source: ConsentSource,
    now: datetime,
    detail: str | None = None,
    by_customer: bool = False,
    teammate_id: int | None = None,
    message_id: int | None = None,
) -> bool:
    """Record that the contact opted in or out; True when this changed their state.

    ConsentRefused when someone other than the customer would opt back in a
    customer who opted out themselves. The caller commits."""
    row = session.scalars(
        select(ContactConsent).where(ContactConsent.contact_id == contact_id)
    ).first()
    if row is not None and row.state == state:
        return False
    if (
        row is not None
        and row.state == ConsentState.OPTED_OUT
        and row.by_customer
        and not by_customer
    ):
        raise ConsentRefused(
            "this customer opted out themselves; only a message from them can opt them back in"
        )
    detail = detail[:500] if detail else None
    if row is None:
        session.add(
            ContactConsent(
                contact_id=contact_id,
                state=state,
                source=source,
                detail=detail,
                changed_at=now,
                by_customer=by_customer,
            )
        )
    else:
        row.state, row.source, row.detail = state, source, detail
        row.changed_at, row.by_customer = now, by_customer
    session.add(
        ConsentEvent(
            contact_id=contact_id,
            state=state,
            source=source,
            detail=detail,
            at=now,
            by_customer=by_customer,
            teammate_id=teammate_id,
            message_id=message_id,
        )
    )
    session.flush()
    return True


def consent_history(session: Session, contact_id: int) -> list[ConsentEvent]:
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        )
    )
