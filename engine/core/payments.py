"""A payment request's state machine, as data and one pure decision (DESIGN rule 8).

A request is not a payment. A callback is a claim; only the provider's confirmed
answer (its status query, or a confirmed callback) makes a payment `paid`. `paid`
is absorbing: a later failure is recorded, not applied. A success after a failure
or a timeout is applied (money moved) and flagged for staff, as is a paid amount
other than the one requested. The adapter (engine/payments) writes what `decide`
returns; nothing else decides how a payment moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class PaymentState(StrEnum):
    REQUESTED = "requested"  # written before the push leaves
    PENDING = "pending"  # accepted by the provider, no final answer yet
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"  # the customer could not be reached or was too slow: reconcile
    UNKNOWN = "unknown"  # we do not know whether money moved: query, never re-push blindly


OPEN_STATES = frozenset({PaymentState.REQUESTED, PaymentState.PENDING, PaymentState.UNKNOWN})
"""States reconciliation still asks the provider about (with TIMEOUT, see `needs_query`)."""


class Outcome(StrEnum):
    CONFIRMED = "confirmed"  # raise `payment confirmed`
    FAILED = "failed"  # raise `payment failed`
    NONE = "none"


@dataclass(frozen=True)
class Verdict:
    """What the provider said, already confirmed where money is concerned."""

    state: PaymentState  # PAID, FAILED, CANCELLED, TIMEOUT or PENDING
    code: str
    message: str
    amount: Decimal | None = None  # what was paid, when known


@dataclass(frozen=True)
class Decision:
    state: PaymentState
    outcome: Outcome
    flag: str | None = None  # for staff; None leaves any earlier flag as it is


def decide(current: PaymentState, requested: Decimal | None, verdict: Verdict) -> Decision:
    """How a payment in `current` moves on `verdict`."""
    if current is PaymentState.PAID:
        if verdict.state is PaymentState.PAID:
            return Decision(PaymentState.PAID, Outcome.NONE)  # a duplicate: nothing new
        return Decision(
            PaymentState.PAID,
            Outcome.NONE,
            f"A later '{verdict.message}' (code {verdict.code}) came for a paid request; "
            "recorded, not applied.",
        )
    if verdict.state is PaymentState.PAID:
        flags = []
        if current in (PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.TIMEOUT):
            flags.append(f"Paid after the request was marked {current.value}.")
        if requested is not None and verdict.amount is not None and verdict.amount != requested:
            flags.append(f"Paid {verdict.amount} where {requested} was requested.")
        return Decision(PaymentState.PAID, Outcome.CONFIRMED, " ".join(flags) or None)
    if verdict.state is PaymentState.PENDING:
        return Decision(current, Outcome.NONE)
    if verdict.state is current:
        return Decision(current, Outcome.NONE)  # the same failure again
    return Decision(verdict.state, Outcome.FAILED)


def needs_query(state: PaymentState) -> bool:
    """Reconciliation asks the provider about these: money may have moved."""
    return state in (PaymentState.PENDING, PaymentState.TIMEOUT)
