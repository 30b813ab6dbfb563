"""The managers' payments list; asking M-Pesa again; marking a payment paid by hand.

Every request and every payment that came in without one (an unmatched paybill/till
payment) is listed by state with its meaning and flag; managers only (the policy's
VIEW_REPORTS), like the failures page. "Ask M-Pesa again" queues a confirmation row
for the worker; it never marks anything paid itself. Marking paid by hand (money seen on
the statement, say) needs a reason, is audited and stays flagged with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from engine.auth import Principal
from engine.auth.policy import Action, require
from engine.automation.refusals import Conflict, InvalidInput, NotFound
from engine.core.payments import PaymentState, Verdict
from engine.models import (
    AuditLog,
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    Payment,
)
from engine.payments.callbacks import queue_confirmation
from engine.payments.settle import add_flag, apply_verdict, confirmed_events, run_rules
from engine.workspaces.directory import ConfigDirectory

LIMIT = 300
ORDER = [
    PaymentState.UNKNOWN,
    PaymentState.PENDING,
    PaymentState.REQUESTED,
    PaymentState.TIMEOUT,
    PaymentState.FAILED,
    PaymentState.CANCELLED,
    PaymentState.PAID,
]


@dataclass(frozen=True)
class PaymentRow:
    id: int
    state: str
    source: str
    customer: str | None
    conversation_id: int | None
    amount: Decimal | None
    paid_amount: Decimal | None
    currency: str | None
    receipt: str | None
    reference: str | None
    meaning: str | None
    flag: str | None
    requested_at: datetime
    may_ask_again: bool


def list_payments(session: Session, principal: Principal) -> list[PaymentRow]:
    require(principal, Action.VIEW_REPORTS)
    rank = case({state.value: n for n, state in enumerate(ORDER)}, value=Payment.state, else_=99)
    rows = session.execute(
        select(Payment, Contact.name)
        .outerjoin(Conversation, Conversation.id == Payment.conversation_id)
        .outerjoin(Contact, Contact.id == Conversation.contact_id)
        .order_by(rank, Payment.flag.is_(None), Payment.requested_at.desc(), Payment.id.desc())
        .limit(LIMIT)
    )
    return [
        PaymentRow(
            id=payment.id,
            state=payment.state,
            source=payment.source,
            customer=name,
            conversation_id=payment.conversation_id,
            amount=payment.amount,
            paid_amount=payment.paid_amount,
            currency=payment.currency,
            receipt=payment.receipt,
            reference=payment.account_reference,
            meaning=payment.result_meaning,
            flag=payment.flag,
            requested_at=payment.requested_at,
            may_ask_again=_may_ask_again(payment),
        )
        for payment, name in rows
    ]


def _may_ask_again(payment: Payment) -> bool:
    return payment.state != PaymentState.PAID and bool(
        payment.checkout_request_id or payment.receipt
    )


def ask_again(session: Session, principal: Principal, payment_id: int, now: datetime) -> None:
    """Queue a status query for one payment (STK Query, or Transaction Status by receipt)."""
    require(principal, Action.VIEW_REPORTS)
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("no such payment")
    if not _may_ask_again(payment):
        raise Conflict("M-Pesa has nothing more to say about this payment")
    queue_confirmation(
        session,
        payment,
        now,
        f"staff-{int(now.timestamp())}",
        by_receipt=payment.checkout_request_id is None or payment.source == "c2b",
    )
    session.add(
        AuditLog(
            actor_kind="teammate",
            actor_teammate_id=principal.teammate_id,
            action="payment_query",
            subject_kind="payment",
            subject_id=payment.id,
            detail={"state": payment.state},
            at=now,
        )
    )


def mark_paid_by_hand(
    session: Session,
    configs: ConfigDirectory,
    principal: Principal,
    payment_id: int,
    reason: str,
    now: datetime,
) -> None:
    """A manager says the money arrived: `payment confirmed` runs, the flag says who and why."""
    require(principal, Action.VIEW_REPORTS)
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise InvalidInput("say why: where did you see the money (statement, receipt number)?")
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("no such payment")
    if payment.state == PaymentState.PAID:
        raise Conflict("this payment is already paid")
    add_flag(payment, f"Marked paid by hand by {principal.name}: {reason}")
    verdict = Verdict(
        PaymentState.PAID,
        "manual",
        f"Marked paid by hand by {principal.name}.",
        payment.paid_amount or payment.amount,
    )
    _, events = apply_verdict(payment, verdict, now)
    session.add(
        AuditLog(
            actor_kind="teammate",
            actor_teammate_id=principal.teammate_id,
            action="payment_marked_paid",
            subject_kind="payment",
            subject_id=payment.id,
            detail={"reason": reason, "amount": str(verdict.amount)},
            at=now,
        )
    )
    session.flush()
    run_rules(session, configs, principal.workspace_id, events, now)


def match_to_order(
    session: Session,
    configs: ConfigDirectory,
    principal: Principal,
    payment_id: int,
    reference: str,
    now: datetime,
) -> None:
    """An unmatched paybill/till payment belongs to the order with this reference: it joins
    that order's conversation. Already confirmed, `payment confirmed` runs now; otherwise
    M-Pesa is asked (Transaction Status) and the rules run when it answers."""
    require(principal, Action.VIEW_REPORTS)
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("no such payment")
    if payment.conversation_id is not None:
        raise Conflict("this payment already belongs to a conversation")
    reference = reference.strip()
    order = session.scalar(
        select(BusinessObject).where(BusinessObject.external_ref == reference).limit(1)
    )
    if order is None:
        raise InvalidInput(f"no order with reference {reference!r}")
    conversation_id = session.scalar(
        select(Conversation.id)
        .join(BusinessObjectLink, BusinessObjectLink.conversation_id == Conversation.id)
        .where(BusinessObjectLink.business_object_id == order.id)
        .order_by(Conversation.status == "resolved", Conversation.opened_at.desc())
        .limit(1)
    )
    payment.business_object_id = order.id
    payment.conversation_id = conversation_id
    payment.amount = order.amount
    payment.updated_at = now
    add_flag(payment, f"Matched to {order.kind} {reference} by {principal.name}.")
    if (
        order.amount is not None
        and payment.paid_amount is not None
        and payment.paid_amount != order.amount
    ):
        add_flag(payment, f"Paid {payment.paid_amount} where {order.amount} was due.")
    session.add(
        AuditLog(
            actor_kind="teammate",
            actor_teammate_id=principal.teammate_id,
            action="payment_matched",
            subject_kind="payment",
            subject_id=payment.id,
            detail={"order": order.id, "reference": reference},
            at=now,
        )
    )
    session.flush()
    if payment.state == PaymentState.PAID:
        run_rules(session, configs, principal.workspace_id, confirmed_events(payment, now), now)
    else:
        queue_confirmation(session, payment, now, f"matched-{order.id}", by_receipt=True)
