"""Writing what `engine.core.payments.decide` says about a payment, and the rule event it raises.

Only here does a payment's state change. `payment confirmed` carries `payment.amount`
(what was paid), `payment.receipt`, `payment.phone` and `payment.expected_amount`;
`payment failed` carries `payment.failure` (the code's meaning, for staff) and
`payment.code`. Both are about the business object the request was for, so `order.*`
reads that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine.automation.inbound import automations_for
from engine.conversations.events import ConversationEvent
from engine.core.payments import Decision, Outcome, PaymentState, Verdict, decide
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import workspace_session
from engine.models import Payment
from engine.workspaces.directory import ConfigDirectory

SETTLED = frozenset(
    {PaymentState.PAID, PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.TIMEOUT}
)


def add_flag(payment: Payment, flag: str | None) -> None:
    """Flags accumulate: staff see every reason a payment needs a look."""
    if not flag:
        return
    if payment.flag and flag in payment.flag:
        return
    payment.flag = f"{payment.flag} {flag}" if payment.flag else flag


def apply_verdict(
    payment: Payment, verdict: Verdict, now: datetime
) -> tuple[Decision, list[ConversationEvent]]:
    """Move `payment` as decided; the rule event to raise for its conversation, if any."""
    decision = decide(PaymentState(payment.state), payment.amount, verdict)
    add_flag(payment, decision.flag)
    if decision.state is not PaymentState(payment.state) or decision.outcome is not Outcome.NONE:
        payment.state = decision.state
        payment.result_code = verdict.code
        payment.result_meaning = verdict.message
        if decision.state in SETTLED:
            payment.settled_at = now
    if decision.state is PaymentState.PAID and verdict.amount is not None:
        payment.paid_amount = verdict.amount
    payment.updated_at = now
    if decision.outcome is Outcome.NONE or payment.conversation_id is None:
        return decision, []
    return decision, [ConversationEvent(payment.conversation_id, _event(payment, decision, now))]


def _event(payment: Payment, decision: Decision, now: datetime) -> DomainEvent:
    confirmed = decision.outcome is Outcome.CONFIRMED
    # The `payment.*` fields the rule language documents (docs/rule-language.md).
    data: dict[str, Any] = {
        "status": payment.state,
        "method": payment.source,
        "phone": payment.phone,
        "reference": payment.account_reference,
        "currency": payment.currency,
        "expected_amount": _number(payment.amount),
    }
    if confirmed:
        data |= {
            "amount": _number(payment.paid_amount or payment.amount),
            "receipt": payment.receipt,
        }
    else:
        data |= {"failure": payment.result_meaning, "code": payment.result_code}
    kind = TriggerKind.PAYMENT_CONFIRMED if confirmed else TriggerKind.PAYMENT_FAILED
    return DomainEvent(
        kind.value,
        f"payment:{payment.id}:{decision.outcome.value}:{payment.result_code}",
        now,
        data={"payment": data},
        subject=f"db:{payment.business_object_id}" if payment.business_object_id else None,
    )


def confirmed_events(payment: Payment, now: datetime) -> list[ConversationEvent]:
    """`payment confirmed` for a payment already paid that has just found its conversation."""
    if payment.state != PaymentState.PAID or payment.conversation_id is None:
        return []
    decision = Decision(PaymentState.PAID, Outcome.CONFIRMED)
    return [ConversationEvent(payment.conversation_id, _event(payment, decision, now))]


def _number(value: Decimal | None) -> Decimal | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def run_rules(
    session: Session,
    configs: ConfigDirectory,
    workspace_id: int,
    events: Sequence[ConversationEvent],
    now: datetime,
) -> None:
    if events:
        automations_for(configs)(session, workspace_id, events, now)


def settle_payment(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    payment_id: int,
    verdict: Verdict,
    now: datetime,
    *,
    flag: str | None = None,
) -> Decision | None:
    """One transaction: the payment moves and its rules run (DESIGN rule 6)."""
    with workspace_session(db, workspace_id) as session:
        payment = session.get(Payment, payment_id, with_for_update=True)
        if payment is None:
            return None
        add_flag(payment, flag)
        decision, events = apply_verdict(payment, verdict, now)
        run_rules(session, configs, workspace_id, events, now)
        session.commit()
        return decision
