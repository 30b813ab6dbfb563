"""A conversation's payment requests as staff read them: state, amount, receipt, meaning, flag.

The meaning is the result code's plain words (connectors/mpesa/codes.py), never M-Pesa's
own ResultDesc; a flag says why a payment needs a person (a mismatch, a late success).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Payment

STATE_LABELS = {
    "requested": "being requested",
    "pending": "waiting for the customer",
    "paid": "paid",
    "failed": "failed",
    "cancelled": "cancelled by the customer",
    "timeout": "not answered",
    "unknown": "unknown: check the statement",
}


@dataclass(frozen=True)
class PaymentLine:
    id: int
    state: str
    state_label: str
    amount: Decimal | None
    paid_amount: Decimal | None
    currency: str | None
    receipt: str | None
    meaning: str | None
    flag: str | None
    reference: str | None
    requested_at: datetime


def payments_of(session: Session, conversation_id: int) -> list[PaymentLine]:
    rows = session.scalars(
        select(Payment)
        .where(Payment.conversation_id == conversation_id)
        .order_by(Payment.requested_at.desc(), Payment.id.desc())
        .limit(20)
    )
    return [
        PaymentLine(
            id=row.id,
            state=row.state,
            state_label=STATE_LABELS.get(row.state, row.state),
            amount=row.amount,
            paid_amount=row.paid_amount,
            currency=row.currency,
            receipt=row.receipt,
            meaning=row.result_meaning,
            flag=row.flag,
            reference=row.account_reference,
            requested_at=row.requested_at,
        )
        for row in rows
    ]
