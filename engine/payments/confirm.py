"""Asking M-Pesa what became of a payment: the confirmation a callback needs, and reconciliation.

`payment.confirm` outbox rows (queued when a callback claims success or a timeout) and the
reconciliation job both call `query_payment`:
- an STK request is asked with STK Query. "Still processing" (500.001.1001) retries later;
  a final code settles the payment through `engine.core.payments.decide`.
- a C2B payment (no checkout id) is asked with Transaction Status by receipt when the
  integration names an `initiator` and its `security_credential`; the answer arrives on
  the `/result` callback. Without them the payment stays pending, flagged for staff.
Reconciliation (`reconcile_payments`, a worker thread) asks about payments still pending or
timed out N minutes after their push (callbacks are late, duplicated or missing: §7).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select

from connectors.mpesa.client import DarajaError
from engine.core.clock import Clock
from engine.core.payments import PaymentState, Verdict
from engine.db import system_session, workspace_session
from engine.jobs.periodic import PeriodicThread
from engine.models import Payment, Workspace
from engine.outbox.dispatch import ExecutionFailed, Executor, OutboxWork
from engine.payments.accounts import AccountMissing, DarajaClients, account_for, callback_url
from engine.payments.settle import add_flag, settle_payment
from engine.workspaces.directory import ConfigDirectory

logger = logging.getLogger(__name__)

STILL_PROCESSING_RETRY = timedelta(seconds=30)
RECONCILE_AFTER_VARIABLE = "KAZI_PAYMENT_RECONCILE_MINUTES"
DEFAULT_RECONCILE_AFTER = timedelta(minutes=3)
RECONCILE_FOR = timedelta(days=1)  # after that, the daily statement is the truth
NO_RECEIPT_YET = "Paid according to M-Pesa's status query; the receipt has not arrived yet."
NO_INITIATOR = (
    "This C2B payment cannot be confirmed automatically: set `initiator` and "
    "`security_credential` on the M-Pesa integration, or confirm it by hand."
)


def make_confirm_executor(
    configs: ConfigDirectory, clients: DarajaClients, env: Mapping[str, str] | None = None
) -> Executor:
    environment = os.environ if env is None else env

    def confirm_payment(work: OutboxWork) -> None:
        payment_id = work.payload.get("payment_id")
        if not isinstance(payment_id, int):
            raise ExecutionFailed("payment.confirm without a payment_id", retryable=False)
        query_payment(
            work.db,
            configs,
            clients,
            environment,
            work.workspace_id,
            payment_id,
            work.now,
            by_receipt=bool(work.payload.get("by_receipt")),
        )

    return confirm_payment


def query_payment(
    db: Engine,
    configs: ConfigDirectory,
    clients: DarajaClients,
    env: Mapping[str, str],
    workspace_id: int,
    payment_id: int,
    now: datetime,
    *,
    by_receipt: bool = False,
) -> None:
    """Ask M-Pesa about one payment and settle it; ExecutionFailed when it could not say.
    `by_receipt`: the money came by paybill/till, so STK Query cannot tell; ask by receipt."""
    with workspace_session(db, workspace_id) as session:
        payment = session.get(Payment, payment_id)
        slug = session.scalar(select(Workspace.slug))
        config = configs.config(slug) if slug else None
        if payment is None or payment.state == PaymentState.PAID:
            return
        if slug is None or config is None:
            raise ExecutionFailed("no valid config is in force", retryable=True)
        try:
            account = account_for(config, payment.integration, env)
        except AccountMissing as missing:
            raise ExecutionFailed(str(missing), retryable=False) from None
        checkout, receipt = payment.checkout_request_id, payment.receipt
        paid_amount = payment.paid_amount
        payment.queries += 1
        payment.last_queried_at = now
        if by_receipt or checkout is None:
            checkout = None
            if not (account.initiator and account.security_credential):
                add_flag(payment, NO_INITIATOR)
        session.commit()
    client = clients.client(account)
    try:
        if checkout is not None:
            answer = client.stk_query(account.merchant, checkout)
        elif receipt and account.initiator and account.security_credential:
            url = callback_url(env, slug, account.callback_token, "result")
            client.transaction_status(
                initiator=account.initiator,
                security_credential=account.security_credential,
                transaction_id=receipt,
                party_a=account.merchant.party_b,
                result_url=url,
                timeout_url=url,
                identifier_type="2" if account.merchant.kind == "till" else "4",
                occasion=f"P{payment_id}",
            )
            return  # the answer comes to /result
        else:
            return
    except DarajaError as error:
        raise ExecutionFailed(error.message, retryable=error.retryable) from None
    if answer.in_progress:
        raise ExecutionFailed(
            "M-Pesa is still processing this payment; asking again shortly.",
            retryable=True,
            retry_after=STILL_PROCESSING_RETRY,
        )
    meaning = answer.meaning
    paid = meaning.state is PaymentState.PAID
    settle_payment(
        db,
        configs,
        workspace_id,
        payment_id,
        Verdict(meaning.state, answer.result_code, meaning.message, paid_amount if paid else None),
        now,
        flag=NO_RECEIPT_YET if paid and receipt is None else None,
    )


def reconcile_after(env: Mapping[str, str]) -> timedelta:
    raw = env.get(RECONCILE_AFTER_VARIABLE, "").strip()
    try:
        return timedelta(minutes=float(raw)) if raw else DEFAULT_RECONCILE_AFTER
    except ValueError:
        return DEFAULT_RECONCILE_AFTER


def reconcile_payments(
    db: Engine,
    configs: ConfigDirectory,
    clients: DarajaClients,
    now: datetime,
    *,
    older_than: timedelta = DEFAULT_RECONCILE_AFTER,
    env: Mapping[str, str] | None = None,
) -> int:
    """Query every STK request still pending (or timed out) `older_than` after its push and
    not asked for that long either. Returns how many were asked."""
    environment = os.environ if env is None else env
    stale = now - older_than
    with system_session(db) as session:
        owed = session.execute(
            select(Payment.workspace_id, Payment.id)
            .where(
                Payment.state.in_((PaymentState.PENDING, PaymentState.TIMEOUT)),
                Payment.checkout_request_id.is_not(None),
                Payment.pushed_at < stale,
                Payment.pushed_at > now - RECONCILE_FOR,
                or_(Payment.last_queried_at.is_(None), Payment.last_queried_at < stale),
            )
            .order_by(Payment.pushed_at)
            .limit(200)
        ).all()
    for workspace_id, payment_id in owed:
        try:
            query_payment(db, configs, clients, environment, workspace_id, payment_id, now)
        except ExecutionFailed as failure:
            logger.info("payment %s not settled yet: %s", payment_id, failure.reason)
    return len(owed)


def reconciliation_thread(
    db: Engine, configs: ConfigDirectory, clients: DarajaClients, clock: Clock
) -> PeriodicThread:
    older_than = reconcile_after(os.environ)

    def reconcile() -> None:
        reconcile_payments(db, configs, clients, clock.now(), older_than=older_than)

    return PeriodicThread(
        "payment-reconciliation", reconcile, interval=min(older_than, timedelta(minutes=1))
    )
