"""The outbox executor for `request payment of order.amount via "mpesa"` (kind payment.request).

1. The payment row is written and committed *before* the push leaves (reference §2.2),
   under the outbox row's idempotency key, so a re-run finds it instead of pushing again.
2. Pushes to one phone are serialised: while another push to the same phone is pending
   and young, this one waits its turn (Daraja answers 1001 / 500.001.1001 otherwise).
3. The push. Accepted: the CheckoutRequestID is stored and the payment is `pending`;
   only a callback confirmed by STK Query (or the query alone) makes it `paid`.
   Refused: the payment fails with its meaning and `payment failed` runs the rules.
   No answer: the payment is `unknown` and is never pushed again blindly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mpesa.client import DarajaError
from connectors.mpesa.phones import InvalidPhone, daraja_phone
from connectors.mpesa.requests import ACCOUNT_REFERENCE_LIMIT, InvalidRequest
from engine.core.payments import PaymentState, Verdict
from engine.db import workspace_session
from engine.models import BusinessObject, Conversation, Identity, Payment, Workspace
from engine.outbox.dispatch import Deferred, ExecutionFailed, Executor, OutboxWork
from engine.payments.accounts import (
    KIND,
    AccountMissing,
    DarajaClients,
    MpesaAccount,
    account_for,
    callback_url,
    forbidden_words,
)
from engine.payments.settle import settle_payment
from engine.workspaces.directory import ConfigDirectory

REQUEST_KIND = "payment.request"
ONE_PUSH_PER_PHONE = timedelta(minutes=2)
WAIT_FOR_PHONE = timedelta(seconds=30)
UNKNOWN_PUSH = (
    "M-Pesa gave no answer to the push, so it may have reached the customer's phone. "
    "It is not sent again on its own: check the M-Pesa statement, then ask again if unpaid."
)


def make_payment_executor(
    configs: ConfigDirectory, clients: DarajaClients, env: Mapping[str, str] | None = None
) -> Executor:
    environment = os.environ if env is None else env

    def request_payment(work: OutboxWork) -> None:
        provider = str(work.payload.get("provider") or KIND)
        with workspace_session(work.db, work.workspace_id) as session:
            slug = session.scalar(select(Workspace.slug))
            config = configs.config(slug) if slug else None
            if slug is None or config is None:
                raise ExecutionFailed("no valid config is in force", retryable=True)
            try:
                account = account_for(config, provider, environment)
            except AccountMissing as missing:
                raise ExecutionFailed(str(missing), retryable=False) from None
            payment = session.scalar(
                select(Payment).where(Payment.request_key == work.idempotency_key)
            )
            if payment is None:
                payment = _new_payment(session, work, account)
                session.commit()
            if payment.state == PaymentState.UNKNOWN:
                raise ExecutionFailed(UNKNOWN_PUSH, retryable=False)
            if payment.checkout_request_id:
                return  # pushed already (a re-run of a row whose push was accepted)
            if payment.state == PaymentState.FAILED:
                # The push never left (a refused number, say) and staff retried the row.
                payment.state = PaymentState.REQUESTED
                payment.requested_at = work.now
                conversation = (
                    session.get(Conversation, payment.conversation_id)
                    if payment.conversation_id
                    else None
                )
                if conversation is not None:  # the number may have been corrected since
                    payment.phone = _phone_of(session, conversation.contact_id)
            if _phone_busy(session, payment, work):
                raise Deferred(WAIT_FOR_PHONE)
            payment_id, phone, amount = payment.id, payment.phone, payment.amount
            reference = payment.account_reference or ""
            session.commit()
        url = callback_url(environment, slug, account.callback_token, "stk")
        problem = _cannot_push(phone, amount, url)
        if problem:
            _failed(configs, work, payment_id, "invalid", problem)
            raise ExecutionFailed(problem, retryable=False)
        assert phone is not None and amount is not None
        try:
            accepted = clients.client(account).stk_push(
                account.merchant,
                phone=phone,
                amount=amount,
                callback_url=url,
                account_reference=reference,
                description=reference,
            )
        except (InvalidPhone, InvalidRequest) as error:
            _failed(configs, work, payment_id, "invalid", str(error))
            raise ExecutionFailed(str(error), retryable=False) from None
        except DarajaError as error:
            if error.maybe_sent:
                _mark(work, payment_id, PaymentState.UNKNOWN, error.message)
                detail = f"{UNKNOWN_PUSH} ({error.message})"
                raise ExecutionFailed(detail, retryable=False) from None
            if error.retryable:
                raise ExecutionFailed(error.message, retryable=True) from None
            _failed(configs, work, payment_id, error.error_code or "refused", error.message)
            raise ExecutionFailed(error.message, retryable=False) from None
        with workspace_session(work.db, work.workspace_id) as session:
            payment = session.get(Payment, payment_id)
            if payment is not None:
                payment.checkout_request_id = accepted.checkout_request_id
                payment.merchant_request_id = accepted.merchant_request_id
                payment.pushed_at = work.now
                if payment.state == PaymentState.REQUESTED:
                    payment.state = PaymentState.PENDING
                payment.updated_at = work.now
                session.commit()

    return request_payment


def _new_payment(session: Session, work: OutboxWork, account: MpesaAccount) -> Payment:
    conversation_id = work.payload.get("conversation_id")
    object_id = work.payload.get("business_object_id")
    conversation = (
        session.get(Conversation, conversation_id) if isinstance(conversation_id, int) else None
    )
    item = session.get(BusinessObject, object_id) if isinstance(object_id, int) else None
    amount = Decimal(str(work.payload.get("amount") or "0"))
    payment = Payment(
        provider=KIND,
        integration=account.integration,
        source="stk",
        request_key=work.idempotency_key,
        conversation_id=conversation.id if conversation else None,
        business_object_id=item.id if item else None,
        phone=_phone_of(session, conversation.contact_id) if conversation else None,
        account_reference=_reference(account, item, conversation_id),
        amount=amount,
        currency=work.payload.get("currency") or (item.currency if item else None) or "KES",
        state=PaymentState.REQUESTED,
        requested_at=work.now,
    )
    session.add(payment)
    session.flush()
    return payment


def _phone_of(session: Session, contact_id: int) -> str | None:
    """The number the customer writes from on WhatsApp, else a phone number on record."""
    rows = session.execute(
        select(Identity.channel, Identity.address).where(
            Identity.contact_id == contact_id,
            Identity.is_current.is_(True),
            Identity.channel.in_(("whatsapp", "phone")),
        )
    ).all()
    by_channel = {channel: address for channel, address in rows}
    return by_channel.get("whatsapp") or by_channel.get("phone")


def _reference(account: MpesaAccount, item: BusinessObject | None, conversation: object) -> str:
    """What the customer's phone shows as the account: the prefix and the order's reference."""
    own = (item.external_ref if item and item.external_ref else None) or (
        str(item.id) if item else f"C{conversation}"
    )
    own = "".join(ch for ch in own.upper() if ch.isalnum())
    prefix = account.account_prefix.upper()
    room = ACCOUNT_REFERENCE_LIMIT - len(prefix)
    return (prefix + own[-room:]) if room > 0 else own[-ACCOUNT_REFERENCE_LIMIT:]


def _cannot_push(phone: str | None, amount: Decimal | None, url: str) -> str | None:
    if amount is None or amount <= 0:
        return "There is no amount to ask for; an empty amount is never pushed."
    if not phone:
        return "The customer has no phone number to send the M-Pesa prompt to."
    try:
        daraja_phone(phone)
    except InvalidPhone as error:
        return f"The M-Pesa prompt cannot go to this number: {error}"
    words = forbidden_words(url)
    if words:
        return (
            f"M-Pesa refuses callback URLs containing {', '.join(words)}: {url.split('/')[2]} "
            "is fine, but rename the workspace or set KAZI_PUBLIC_URL without them."
        )
    return None


def _phone_busy(session: Session, payment: Payment, work: OutboxWork) -> bool:
    return (
        session.scalar(
            select(Payment.id)
            .where(
                Payment.phone == payment.phone,
                Payment.id != payment.id,
                Payment.state == PaymentState.PENDING,
                Payment.pushed_at > work.now - ONE_PUSH_PER_PHONE,
            )
            .limit(1)
        )
        is not None
    )


def _mark(work: OutboxWork, payment_id: int, state: PaymentState, meaning: str) -> None:
    with workspace_session(work.db, work.workspace_id) as session:
        payment = session.get(Payment, payment_id)
        if payment is not None:
            payment.state = state
            payment.result_meaning = meaning
            payment.updated_at = work.now
            session.commit()


def _failed(
    configs: ConfigDirectory, work: OutboxWork, payment_id: int, code: str, why: str
) -> None:
    settle_payment(
        work.db,
        configs,
        work.workspace_id,
        payment_id,
        Verdict(PaymentState.FAILED, code, f"The M-Pesa prompt was not sent: {why}"),
        work.now,
    )
