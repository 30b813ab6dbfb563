"""M-Pesa callbacks: stored raw on a secret URL, then applied by a job (DESIGN rules 1, 8).

Routes (`ui/routes/webhooks.py`), one secret token per workspace from integrations.yaml:

    POST /webhooks/payments/{workspace}/{callback_token}/stk
    POST /webhooks/payments/{workspace}/{callback_token}/c2b/validation
    POST /webhooks/payments/{workspace}/{callback_token}/c2b/confirmation
    POST /webhooks/payments/{workspace}/{callback_token}/result

(`payments`, not `mpesa`: Daraja refuses callback URLs containing `mpesa`, reference §6.)
A wrong workspace, token or path is a 404 and stores nothing. With the right token the
body is stored as an InboundEvent (provider `mpesa`) and committed before the 200; a
body that is not a callback is stored flagged. Callbacks are unsigned, so applying one
never credits money by itself: a success is correlated with a request this workspace
made and then confirmed by STK Query (or Transaction Status) before `payment confirmed`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from connectors.mpesa.addresses import allowed, parse_networks
from connectors.mpesa.callbacks import (
    CALLBACK_ACK,
    CONFIRMATION_ACK,
    VALIDATION_ACCEPT,
    C2BPayment,
    MalformedCallback,
    normalise_reference,
    parse_c2b,
    parse_stk_callback,
    parse_transaction_status,
    validation_reject,
)
from connectors.mpesa.phones import InvalidPhone, daraja_phone
from engine.conversations.events import ConversationEvent
from engine.core.config import WorkspaceConfig
from engine.core.payments import PaymentState, Verdict
from engine.core.queue import JobQueue
from engine.db import workspace_session
from engine.inbound.ingest import RawItem, store_inbound
from engine.inbound.processing import FlagForStaff
from engine.jobs.names import PROCESS_INBOUND_BATCH
from engine.models import BusinessObject, InboundEvent, OutboxRow, Payment
from engine.payments.accounts import KIND, integration_for_token
from engine.payments.settle import add_flag, apply_verdict
from engine.whatsapp.webhook import workspace_id_for
from engine.workspaces.directory import ConfigDirectory

PROVIDER = "mpesa"
CONFIRM_KIND = "payment.confirm"
ALLOWED_IPS_VARIABLE = "KAZI_MPESA_CALLBACK_IPS"  # e.g. "safaricom" or "safaricom,203.0.113.7"
ANSWERS: dict[str, dict[str, Any]] = {
    "stk": CALLBACK_ACK,
    "c2b/validation": VALIDATION_ACCEPT,
    "c2b/confirmation": CONFIRMATION_ACK,
    "result": CALLBACK_ACK,
    "timeout": CALLBACK_ACK,  # Transaction Status QueueTimeOutURL: the same Result envelope
}
VALIDATION_SETTING = "c2b_validation"  # integrations.yaml: accept (default) | known_accounts
IN_FLIGHT = timedelta(minutes=10)
OPEN_FOR_C2B = (
    PaymentState.REQUESTED,
    PaymentState.PENDING,
    PaymentState.TIMEOUT,
    PaymentState.UNKNOWN,
)


@dataclass(frozen=True)
class CallbackAnswer:
    status: int
    body: dict[str, Any]


def receive_payment_callback(
    *,
    db: Engine,
    queue: JobQueue,
    configs: ConfigDirectory,
    slug: str,
    token: str,
    kind: str,
    body: bytes,
    now: datetime,
    source: str | None = None,
    env: Mapping[str, str] | None = None,
) -> CallbackAnswer:
    """Check the token before anything else; store; answer as Daraja expects.

    With `KAZI_MPESA_CALLBACK_IPS` set, a callback from another `source` address (as the
    web server resolved it) is stored flagged: quarantined for staff, never applied,
    rather than dropped (reference §6.3)."""
    environment = os.environ if env is None else env
    not_found = CallbackAnswer(404, {"error": "not found"})
    if kind not in ANSWERS:
        return not_found
    workspace_id = workspace_id_for(db, slug)
    config = configs.config(slug) if workspace_id is not None else None
    integration = integration_for_token(config, token, environment) if config is not None else None
    if workspace_id is None or integration is None:
        return not_found
    item = callback_item(integration, kind, body)
    answer = ANSWERS[kind]
    stranger = _not_allowed(environment, source)
    if stranger is not None:
        item = RawItem(
            dedup_key=f"quarantined:{source}:{item.dedup_key}",
            payload={**item.payload, "source": source},
            flag=stranger,
        )
    with workspace_session(db, workspace_id) as session:
        if kind == "c2b/validation" and stranger is None:
            answer = validation_answer(session, config, integration, item)
            item = RawItem(
                dedup_key=item.dedup_key, payload={**item.payload, "answer": answer}, flag=item.flag
            )
        stored = store_inbound(
            session,
            workspace_id=workspace_id,
            provider=PROVIDER,
            items=[item],
            signature_ok=True,  # the secret URL is the only credential Daraja offers
            now=now,
        )
        session.commit()
    if stored.new_event_ids:
        # One batch job claims the workspace's ready events, these among them.
        with suppress(Exception):  # the queue is down: the sweeper enqueues it later
            queue.enqueue(PROCESS_INBOUND_BATCH, workspace_id=workspace_id)
    return CallbackAnswer(200, answer)


def validation_answer(
    session: Session, config: WorkspaceConfig | None, integration: str, item: RawItem
) -> dict[str, str]:
    """What M-Pesa is told when it asks whether to take a paybill/till payment (reference
    §3.2, §3.4): within its ~8 s, from what is already stored, never a provider call.

    Refused: a body that is not a C2B notification (C2B00016) and an amount that is not
    positive (C2B00013). With `c2b_validation: known_accounts` also a payment to a
    shortcode that is not this integration's (C2B00015) and an account number that
    names no open request or order (C2B00012). Anything else is accepted: what customers
    type is matched fuzzily later and an unmatched payment goes to staff, so refusing it
    by default would lose a sale. The answer is kept on the stored event."""
    body = item.payload.get("body")
    if item.flag is not None or body is None:
        return validation_reject("C2B00016")
    try:
        paid = parse_c2b(body)
    except MalformedCallback:
        return validation_reject("C2B00016")
    if paid.amount <= 0:
        return validation_reject("C2B00013")
    settings = next(
        (i.settings for i in (config.integrations if config else ()) if i.name == integration),
        {},
    )
    if settings.get(VALIDATION_SETTING) == "known_accounts":
        ours = {settings.get("shortcode"), settings.get("till_number")} - {None, ""}
        if ours and paid.shortcode not in ours:
            return validation_reject("C2B00015")
        if not _known_account(session, paid):
            return validation_reject("C2B00012")
    return dict(VALIDATION_ACCEPT)


def _known_account(session: Session, paid: C2BPayment) -> bool:
    """The account number the customer typed names an open request or an order here."""
    wanted = paid.account_reference
    if not wanted:
        return False
    for column, where in (
        (Payment.account_reference, Payment.state.in_(OPEN_FOR_C2B)),
        (BusinessObject.external_ref, BusinessObject.external_ref.is_not(None)),
    ):
        # Spaces and dashes out, upper case: what `normalise_reference` does to the input.
        folded = func.upper(func.replace(func.replace(column, " ", ""), "-", ""))
        if session.scalar(select(column).where(where, folded == wanted).limit(1)) is not None:
            return True
    return False


def _not_allowed(env: Mapping[str, str], source: str | None) -> str | None:
    """Why the caller is not on the allow-list; None when it is, or there is no list."""
    spec = env.get(ALLOWED_IPS_VARIABLE, "").strip()
    if not spec:
        return None
    try:
        allow_list = parse_networks(spec)
    except ValueError as error:
        return f"quarantined: {ALLOWED_IPS_VARIABLE} cannot be read ({error})"
    if allowed(source, allow_list):
        return None
    return f"quarantined: sent from {source}, which is not on {ALLOWED_IPS_VARIABLE}"


def callback_item(integration: str, kind: str, body: bytes) -> RawItem:
    """The stored row; its dedup key makes a repeated callback one event."""
    digest = hashlib.sha256(body).hexdigest()
    text = body.decode("utf-8", errors="replace")[:100_000]
    try:
        document = json.loads(body)
        key = _dedup_key(kind, document)
    except (ValueError, MalformedCallback) as error:
        return RawItem(
            dedup_key=f"{kind}:malformed:{digest}",
            payload={"integration": integration, "kind": kind, "unreadable_body": text},
            flag=f"not an M-Pesa {kind} callback: {error}",
        )
    return RawItem(
        dedup_key=key, payload={"integration": integration, "kind": kind, "body": document}
    )


def _dedup_key(kind: str, document: object) -> str:
    if kind == "stk":
        stk = parse_stk_callback(document)
        return f"stk:{stk.checkout_request_id}:{stk.result_code}:{stk.receipt or ''}"
    if kind in ("c2b/confirmation", "c2b/validation"):
        c2b = parse_c2b(document)
        return f"{kind}:{c2b.transaction_id}"
    result = parse_transaction_status(document)
    ids = f"{result.conversation_id}:{result.originator_conversation_id}"
    return f"result:{ids}:{result.result_code}"


# ----- applying, in the inbound job ---------------------------------------------------------


def apply_payment_event(
    session: Session, event: InboundEvent, now: datetime
) -> list[ConversationEvent]:
    kind = str(event.payload.get("kind"))
    body = event.payload.get("body")
    integration = str(event.payload.get("integration") or KIND)
    if kind == "stk":
        return _apply_stk(session, body, now)
    if kind == "c2b/confirmation":
        return _apply_c2b(session, integration, body, now)
    if kind in ("result", "timeout"):
        return _apply_status_result(session, body, now)
    return []  # a validation asks nothing of us: we accepted it; the confirmation follows


def _apply_stk(session: Session, body: object, now: datetime) -> list[ConversationEvent]:
    callback = parse_stk_callback(body)
    payment = session.scalar(
        select(Payment)
        .where(Payment.checkout_request_id == callback.checkout_request_id)
        .with_for_update()
    )
    if payment is None:
        if _push_in_flight(session, now):
            # The callback beat the executor's write of the CheckoutRequestID: try again.
            raise LookupError(
                f"no request with CheckoutRequestID {callback.checkout_request_id} yet; "
                "a push is still being recorded"
            )
        raise FlagForStaff(
            f"An M-Pesa callback for CheckoutRequestID {callback.checkout_request_id}, which "
            "this workspace never issued: kept, not credited."
        )
    payment.raw_callback = body if isinstance(body, dict) else {"body": body}
    payment.updated_at = now
    if not callback.paid:
        meaning = callback.meaning
        if meaning.reconcile:
            # Money may have moved (reference §2.4): ask M-Pesa before saying anything.
            payment.result_code, payment.result_meaning = callback.result_code, meaning.message
            queue_confirmation(session, payment, now, f"code-{callback.result_code}")
            return []
        _, events = apply_verdict(
            payment, Verdict(meaning.state, callback.result_code, meaning.message), now
        )
        return events
    receipt = callback.receipt or ""
    if payment.receipt and payment.receipt != receipt:
        # Kept on the payment, where staff look; the event itself applied cleanly.
        add_flag(payment, f"A second receipt {receipt} came for this request: a double payment?")
        return []
    other = session.scalar(
        select(Payment.id).where(Payment.receipt == receipt, Payment.id != payment.id)
    )
    if other is not None:
        add_flag(payment, f"Receipt {receipt} is already on payment #{other}: not credited twice.")
        return []
    if payment.state == PaymentState.PAID:
        return []  # the same success again
    payment.receipt = receipt
    payment.paid_amount = callback.amount
    if callback.phone and payment.phone and _digits(payment.phone) != callback.phone:
        add_flag(payment, f"Paid from {callback.phone}, not the number asked.")
    queue_confirmation(session, payment, now, f"receipt-{receipt}")
    return []


def _apply_c2b(
    session: Session, integration: str, body: object, now: datetime
) -> list[ConversationEvent]:
    paid = parse_c2b(body)
    if session.scalar(select(Payment.id).where(Payment.receipt == paid.transaction_id)):
        return []  # the receipt is known already (through STK or a repeated confirmation)
    candidates = session.scalars(
        select(Payment)
        .where(
            Payment.source == "stk",
            Payment.receipt.is_(None),
            Payment.state.in_(OPEN_FOR_C2B),
            Payment.amount == paid.amount,
        )
        .order_by(Payment.requested_at.desc())
    ).all()
    match = next(
        (
            p
            for p in candidates
            if p.account_reference
            and normalise_reference(p.account_reference) == paid.account_reference
        ),
        None,
    )
    raw = body if isinstance(body, dict) else {"body": body}
    if match is not None:
        match.receipt, match.paid_amount, match.raw_callback = paid.transaction_id, paid.amount, raw
        add_flag(match, f"Paid by paybill/till (C2B) with account {paid.bill_reference!r}.")
        match.updated_at = now
        queue_confirmation(session, match, now, f"receipt-{paid.transaction_id}", by_receipt=True)
        return []
    unmatched = Payment(
        provider=KIND,
        integration=integration,
        source="c2b",
        phone=paid.msisdn or None,
        account_reference=paid.bill_reference[:32] or None,
        paid_amount=paid.amount,
        currency="KES",
        state=PaymentState.PENDING,
        receipt=paid.transaction_id,
        raw_callback=raw,
        flag=(
            f"Unmatched: {paid.amount} paid with account {paid.bill_reference!r} matches no "
            "open request. Match it to an order."
        ),
        requested_at=now,
        updated_at=now,
    )
    session.add(unmatched)
    session.flush()
    queue_confirmation(session, unmatched, now, f"receipt-{paid.transaction_id}", by_receipt=True)
    return []


def _apply_status_result(session: Session, body: object, now: datetime) -> list[ConversationEvent]:
    result = parse_transaction_status(body)
    occasion = str(result.reference.get("Occasion") or "")
    payment = None
    if occasion.startswith("P") and occasion[1:].isdigit():
        payment = session.get(Payment, int(occasion[1:]), with_for_update=True)
    if payment is None and result.receipt:
        payment = session.scalar(select(Payment).where(Payment.receipt == result.receipt))
    if payment is None:
        raise FlagForStaff(
            f"A Transaction Status result ({result.conversation_id}) for no payment here."
        )
    if result.timed_out:
        add_flag(payment, "M-Pesa's Transaction Status query timed out; it is asked again later.")
        return []
    if result.completed:
        verdict = Verdict(PaymentState.PAID, "0", "Paid.", result.amount or payment.paid_amount)
    else:
        verdict = Verdict(
            PaymentState.FAILED,
            result.result_code,
            f"M-Pesa has no completed payment with receipt {payment.receipt}: not credited "
            f"({result.meaning.message})",
        )
    _, events = apply_verdict(payment, verdict, now)
    return events


def queue_confirmation(
    session: Session, payment: Payment, now: datetime, reason: str, *, by_receipt: bool = False
) -> None:
    """An outbox row that asks M-Pesa about this payment, once per reason: by STK Query, or
    (`by_receipt`, for money that came by paybill/till) by Transaction Status."""
    key = f"payment:{payment.id}:confirm:{reason}"[:255]
    if session.scalar(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)):
        return
    session.add(
        OutboxRow(
            kind=CONFIRM_KIND,
            payload={
                "payment_id": payment.id,
                "conversation_id": payment.conversation_id,
                "by_receipt": by_receipt,
            },
            idempotency_key=key,
            conversation_id=payment.conversation_id,
            next_attempt_at=now,
        )
    )
    session.flush()


def _push_in_flight(session: Session, now: datetime) -> bool:
    """A push has left (or is leaving) but its CheckoutRequestID is not written yet."""
    return (
        session.scalar(
            select(Payment.id)
            .where(
                Payment.state == PaymentState.REQUESTED,
                Payment.checkout_request_id.is_(None),
                Payment.requested_at > now - IN_FLIGHT,
            )
            .limit(1)
        )
        is not None
    )


def _digits(phone: str) -> str:
    try:
        return daraja_phone(phone)
    except InvalidPhone:
        return "".join(ch for ch in phone if ch.isdigit())
