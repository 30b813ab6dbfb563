"""Sending on WhatsApp: the outbox executors for sends and read receipts.

Messages are queued by engine.outbox.sends in the transaction that decided them.
`send_outbox_message` is the worker's executor for such a row: it re-checks the
24-hour window when it runs (DESIGN rule 4), sends outside any database
transaction, and records what the provider said on the Message.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from connectors.whatsapp.numbers import is_bsuid
from engine.core.delivery import next_delivery_state
from engine.core.messaging import (
    ListRow,
    ListSection,
    MarkAsRead,
    MessageSender,
    OutboundButtons,
    OutboundContact,
    OutboundList,
    OutboundLocation,
    OutboundMedia,
    OutboundMessage,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    ReplyButton,
    SendAccepted,
    SendFailure,
    TextParameter,
)
from engine.db import workspace_session
from engine.models import (
    Channel,
    Identity,
    Message,
    UnmatchedItem,
)
from engine.models.states import UnmatchedState
from engine.outbox.dispatch import Call, Deferred, ExecutionFailed, OutboxWork, Verdict
from engine.outbox.rate_limit import RateLimited
from engine.outbox.sends import (
    OUTSIDE_WINDOW_MEANING,
    READ_KIND,
    SEND_KIND,
    window_is_open,
)
from engine.whatsapp.account import alert_send_error, template_refusal
from engine.whatsapp.apply import apply_waiting

__all__ = [
    "READ_KIND",
    "SEND_KIND",
    "SendExecutor",
    "make_read_executor",
    "make_send_executor",
]

THROUGHPUT_CODE = "130429"  # the number's messages per second were exceeded

# --- the executor -----------------------------------------------------------------------

SenderFor = Callable[[int, str], MessageSender]
"""(workspace id, business number) → a sender for that number."""

Uploader = Callable[[OutboxWork], str]
"""A send row's stored file → its WhatsApp media id (engine.whatsapp.media)."""


# Send errors that stop the whole account or number until someone acts (reference §9:
# "stop-the-world on 368/131031/190/131042"): a send that meets one is held and asks
# again every PAUSE instead of failing, for up to HOLD_FOR after it was written; the
# admins are told at once (engine.whatsapp.account.alert_send_error).
PAUSING_CODES = frozenset({"0", "190", "368", "131031", "131042", "133010"})
PAUSE = timedelta(minutes=10)
HOLD_FOR = timedelta(hours=24)
# The least wait before retrying a rate-limited send (reference §9: the pair rate limit
# allows about one message every 6 s to one customer; throughput clears within seconds).
LEAST_WAIT = {"131056": timedelta(seconds=6), "130429": timedelta(seconds=2)}


def _age(message: Message, now: datetime) -> timedelta:
    created = message.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return now - created


def make_send_executor(sender_for: SenderFor, upload: Uploader | None = None) -> SendExecutor:
    return SendExecutor(sender_for, upload)


class SendExecutor:
    """Sends queued messages: one row at a time (`__call__`, its own transactions), or a
    batch inside the dispatcher's two transactions (`prepare`, then `finish`)."""

    def __init__(self, sender_for: SenderFor, upload: Uploader | None = None) -> None:
        self._sender_for = sender_for
        self._upload = upload

    def __call__(self, work: OutboxWork) -> None:
        business_number = _business_number_of(work)
        if business_number is None:
            return  # the message is gone
        try:
            sender = self._sender_for(work.workspace_id, business_number)
        except ExecutionFailed as failure:
            if not failure.retryable:
                _fail_outside(work, "configuration", failure.reason)
            raise
        # The per-number rate limit, asked before anything is marked: a send over the
        # limit waits its turn in the queue and stays `queued`.
        if isinstance(sender, RateLimited):
            wait = sender.admit(work.now)
            if wait > timedelta(0):
                raise Deferred(wait)
        if work.payload.get("type") == "media" and work.payload.get("stored"):
            work = _with_uploaded_media(work, self._upload)
        outbound = _prepare(work)
        if outbound is None:
            return
        result = sender.send(outbound, idempotency_key=work.idempotency_key)
        _record_result(work, result)

    def prepare(self, session: Session, works: Sequence[OutboxWork]) -> dict[int, Call | Verdict]:
        """Every check `_prepare` makes, for a batch in a few queries; a row that passes
        them and its number's rate limit is marked `sending` and gets its call."""
        learn_slugs = getattr(self._sender_for, "learn_slugs", None)
        if learn_slugs is not None:  # through this session: see WhatsAppSenders.learn_slugs
            learn_slugs(session, {work.workspace_id for work in works})
        # A stored file is uploaded first, on the network: those rows go one at a time.
        direct = [
            w for w in works if not (w.payload.get("type") == "media" and w.payload.get("stored"))
        ]
        ids = [int(work.payload["message_id"]) for work in direct]
        messages = {
            message.id: message
            for message in session.scalars(
                select(Message).options(joinedload(Message.conversation)).where(Message.id.in_(ids))
            )
        }
        recipients = _recipients(session, {m.conversation.contact_id for m in messages.values()})
        refusals: dict[tuple[str, str], tuple[str, str] | None] = {}
        answers: dict[int, Call | Verdict] = {}
        line: dict[str, int] = {}  # rows deferred so far in this batch, per sender
        for work in direct:
            message = messages.get(int(work.payload["message_id"]))
            answers[work.row_id] = self._prepare_one(
                session, work, message, recipients, refusals, line
            )
        return answers

    def _prepare_one(
        self,
        session: Session,
        work: OutboxWork,
        message: Message | None,
        recipients: dict[int, list[str]],
        refusals: dict[tuple[str, str], tuple[str, str] | None],
        line: dict[str, int],
    ) -> Call | Verdict:
        if message is None or message.delivery_state not in ("queued", "sending"):
            return None  # sent already, or retried into a new state by staff
        if message.delivery_state == "sending":
            _unknown(message)  # an earlier attempt stopped mid-send: see _prepare
            return ExecutionFailed(
                "an earlier attempt stopped mid-send; outcome unknown", retryable=False
            )
        conversation = message.conversation
        spec = work.payload
        number = spec.get("business_number") or conversation.business_number
        try:
            sender = self._sender_for(work.workspace_id, str(number))
        except ExecutionFailed as failure:
            if not failure.retryable:
                _fail(message, "configuration", failure.reason)
            return failure
        if spec["type"] != "template" and not window_is_open(conversation, work.now):
            _fail(message, "131047", OUTSIDE_WINDOW_MEANING)
            return ExecutionFailed(OUTSIDE_WINDOW_MEANING, retryable=False)
        if spec["type"] == "template":
            template = (spec["name"], spec["language"])
            if template not in refusals:
                refusals[template] = template_refusal(session, *template)
            refusal = refusals[template]
            if refusal is not None:
                _fail(message, *refusal)
                return ExecutionFailed(refusal[1], retryable=False)
        try:
            to = _first_number(recipients.get(conversation.contact_id, []))
        except ExecutionFailed as failure:
            return failure
        if isinstance(sender, RateLimited):
            wait = sender.admit(work.now)
            if wait > timedelta(0):
                # The rows over the limit line up behind each other, one token apart,
                # so they come back due in turn rather than all at once.
                rate = getattr(sender, "rate", None)
                bucket = str(getattr(sender, "key", id(sender)))
                behind = line.get(bucket, 0)
                line[bucket] = behind + 1
                return Deferred(wait + timedelta(seconds=behind / rate) if rate else wait)
        message.delivery_state = "sending"
        outbound = _outbound(spec, to, work.idempotency_key)
        return functools.partial(sender.send, outbound, idempotency_key=work.idempotency_key)

    def finish(
        self, session: Session, results: Sequence[tuple[OutboxWork, object]]
    ) -> dict[int, Verdict]:
        ids = [int(work.payload["message_id"]) for work, _ in results]
        messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
        accepted = [
            r.provider_message_id
            for _, r in results
            if isinstance(r, SendAccepted) and r.provider_message_id
        ]
        # Statuses that beat the answers: looked up once for the batch, applied per hit.
        waiting = set(
            session.scalars(
                select(UnmatchedItem.target_provider_message_id).where(
                    UnmatchedItem.target_provider_message_id.in_(accepted),
                    UnmatchedItem.state != UnmatchedState.APPLIED,
                )
            )
            if accepted
            else ()
        )
        verdicts: dict[int, Verdict] = {}
        for work, result in results:
            message = messages.get(int(work.payload["message_id"]))
            if message is None:
                verdicts[work.row_id] = None
                continue
            verdicts[work.row_id] = _settle(session, work, message, result, waiting)
        session.flush()
        return verdicts


def _with_uploaded_media(work: OutboxWork, upload: Uploader | None) -> OutboxWork:
    """The row's stored file uploaded (or a recent upload reused), its id in the payload."""
    try:
        if upload is None:
            raise ExecutionFailed("this process cannot upload media", retryable=True)
        media_id = upload(work)
    except ExecutionFailed as failure:
        if not failure.retryable:
            _fail_outside(work, failure.reason.split(":", 1)[0], failure.reason)
        raise
    return replace(work, payload={**work.payload, "media_id": media_id})


def _business_number_of(work: OutboxWork) -> str | None:
    number = work.payload.get("business_number")
    if isinstance(number, str) and number:
        return number
    # Rows queued before the number was kept in the payload.
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        return message.conversation.business_number if message is not None else None


def _prepare(work: OutboxWork) -> OutboundMessage | None:
    """Re-read and re-check before sending; None when there is nothing left to send."""
    with workspace_session(work.db, work.workspace_id) as session:
        # One query for the message and its conversation: this runs for every send.
        message = session.get(
            Message, int(work.payload["message_id"]), options=[joinedload(Message.conversation)]
        )
        if message is None or message.delivery_state not in ("queued", "sending"):
            return None  # sent already, or retried into a new state by staff
        if message.delivery_state == "sending":
            # An earlier attempt died between marking the message and hearing WhatsApp's
            # answer (a killed worker, an expired lease): the request may have left.
            # Sending again could double it, so it is an unknown outcome like a timeout.
            _unknown(message)
            session.commit()
            raise ExecutionFailed(
                "an earlier attempt stopped mid-send; outcome unknown", retryable=False
            )
        conversation = message.conversation
        spec = work.payload
        if spec["type"] != "template" and not window_is_open(conversation, work.now):
            _fail(message, "131047", OUTSIDE_WINDOW_MEANING)
            session.commit()
            raise ExecutionFailed(OUTSIDE_WINDOW_MEANING, retryable=False)
        refusal = (
            template_refusal(session, spec["name"], spec["language"])
            if spec["type"] == "template"
            else None
        )
        if refusal is not None:
            _fail(message, *refusal)
            session.commit()
            raise ExecutionFailed(refusal[1], retryable=False)
        to = _recipient(session, conversation.contact_id)
        message.delivery_state = "sending"
        session.commit()
        return _outbound(spec, to, work.idempotency_key)


def _outbound(spec: dict[str, Any], to: str, key: str) -> OutboundMessage:
    if spec["type"] == "template":
        return OutboundTemplate(
            to=to,
            name=spec["name"],
            language=spec["language"],
            header=tuple(TextParameter(str(value)) for value in spec.get("header_parameters", [])),
            body=tuple(TextParameter(str(value)) for value in spec["body_parameters"]),
            callback_data=key,
        )
    if spec["type"] == "media":
        return OutboundMedia(
            to=to,
            kind=spec["kind"],
            link=spec.get("link"),
            media_id=spec.get("media_id"),
            caption=spec.get("caption"),
            filename=spec.get("filename"),
            callback_data=key,
        )
    if spec["type"] == "buttons":
        return OutboundButtons(
            to=to,
            body=spec["body"],
            buttons=tuple(ReplyButton(id, title) for id, title in spec["buttons"]),
            callback_data=key,
        )
    rich = _rich(spec, to, key)
    if rich is not None:
        return rich
    return OutboundText(to=to, body=spec["body"], reply_to=spec.get("reply_to"), callback_data=key)


def _rich(spec: dict[str, Any], to: str, key: str) -> OutboundMessage | None:
    """A list, location, contact card or reaction row (engine.core.rich.to_spec)."""
    if spec["type"] == "list":
        return OutboundList(
            to=to,
            body=spec["body"],
            button=spec["button"],
            sections=tuple(
                ListSection(
                    section["title"],
                    tuple(
                        ListRow(id, title, description)
                        for id, title, description in section["rows"]
                    ),
                )
                for section in spec["sections"]
            ),
            callback_data=key,
        )
    if spec["type"] == "location":
        return OutboundLocation(
            to=to,
            latitude=float(spec["latitude"]),
            longitude=float(spec["longitude"]),
            name=spec.get("name"),
            address=spec.get("address"),
            callback_data=key,
        )
    if spec["type"] == "contact":
        return OutboundContact(to=to, name=spec["name"], phone=spec["phone"], callback_data=key)
    if spec["type"] == "reaction":
        return OutboundReaction(
            to=to, message_id=spec["reacted_to"], emoji=spec["emoji"], callback_data=key
        )
    return None


def make_read_executor(sender_for: SenderFor) -> Callable[[OutboxWork], None]:
    """Sends a read receipt; a receipt that cannot be sent is not worth a retry storm."""

    def send_read_receipt(work: OutboxWork) -> None:
        receipt = MarkAsRead(str(work.payload["provider_message_id"]))
        result = sender_for(work.workspace_id, str(work.payload["business_number"])).send(
            receipt, idempotency_key=work.idempotency_key
        )
        if isinstance(result, SendFailure):
            raise ExecutionFailed(f"{result.code}: {result.meaning}", retryable=result.retryable)

    return send_read_receipt


def _fail_outside(work: OutboxWork, code: str, meaning: str) -> None:
    """The send cannot be tried at all (no token, no integration): show it as failed."""
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        if message is not None and message.delivery_state == "queued":
            _fail(message, code, meaning)
            session.commit()


def _recipient(session: Session, contact_id: int) -> str:
    return _first_number(_recipients(session, {contact_id}).get(contact_id, []))


def _recipients(session: Session, contact_ids: set[int]) -> dict[int, list[str]]:
    """Each contact's current WhatsApp addresses, newest first, in one query."""
    found: dict[int, list[str]] = {}
    if not contact_ids:
        return found
    rows = session.execute(
        select(Identity.contact_id, Identity.address)
        .where(
            Identity.contact_id.in_(contact_ids),
            Identity.channel == Channel.WHATSAPP,
            Identity.is_current.is_(True),
        )
        .order_by(Identity.valid_from.desc(), Identity.id.desc())
    )
    for contact_id, address in rows:
        found.setdefault(contact_id, []).append(address)
    return found


def _first_number(addresses: list[str]) -> str:
    # The wa_id WhatsApp last reported (the newest identity), never a username's BSUID.
    numbers = [a for a in addresses if not is_bsuid(a)]
    if not numbers:
        why = (
            "the customer is known only by a WhatsApp username (BSUID); Kazi sends to "
            "numbers only, so reply once they have written from their number"
            if addresses
            else "the contact has no current WhatsApp number"
        )
        raise ExecutionFailed(why, retryable=False)
    return numbers[0].lstrip("+")


def _record_result(work: OutboxWork, result: object) -> None:
    with workspace_session(work.db, work.workspace_id) as session:
        message = session.get(Message, int(work.payload["message_id"]))
        if message is None:
            return
        verdict = _settle(session, work, message, result, None)
        session.commit()
    if verdict is not None:
        raise verdict


def _settle(
    session: Session,
    work: OutboxWork,
    message: Message,
    result: object,
    waiting: set[str] | None,
) -> ExecutionFailed | Deferred | None:
    """Record what WhatsApp answered on the message; the row's verdict (None: done).
    `waiting` is the batch's wamids with statuses kept for them; None to look each up."""
    if isinstance(result, SendAccepted):
        message.provider_message_id = result.provider_message_id
        message.delivery_state = next_delivery_state(message.delivery_state, "accepted")
        wamid = result.provider_message_id
        if wamid and (waiting is None or wamid in waiting):
            # Statuses that beat this answer are applied now. (What they could raise
            # for the rules — a reaction to a message not yet known to be sent — has
            # no effect worth a step here.)
            apply_waiting(session, wamid, work.now)
        return None
    if isinstance(result, SendFailure):
        alert_send_error(session, result.code, result.meaning, work.now)
        if result.code in PAUSING_CODES and _age(message, work.now) < HOLD_FOR:
            # The account cannot send at all until someone acts (a new token, an
            # appeal): the message waits and asks again, it does not fail.
            message.delivery_state = "queued"
            message.failure_code, message.failure_detail = result.code, result.meaning
            return Deferred(PAUSE, f"{result.code}: {result.meaning}")
        if result.retryable:
            message.delivery_state = "queued"
            message.failure_code, message.failure_detail = result.code, result.meaning
            retry_after = (
                timedelta(seconds=result.retry_after_seconds)
                if result.retry_after_seconds
                else None
            )
            least = LEAST_WAIT.get(result.code)
            if least is not None and (retry_after is None or retry_after < least):
                retry_after = least
            if result.code == THROUGHPUT_CODE:
                # Over the number's throughput: not a failed attempt but a pace to keep
                # (Meta: retry in seconds); the row waits its turn like a deferral.
                return Deferred(
                    retry_after or timedelta(seconds=1 + random.random()),
                    f"{result.code}: {result.meaning}",
                )
            return ExecutionFailed(
                f"{result.code}: {result.meaning}", retryable=True, retry_after=retry_after
            )
        _fail(message, result.code, result.meaning)
        return ExecutionFailed(f"{result.code}: {result.meaning}", retryable=False)
    # Outcome unknown: WhatsApp may have the message. Never resend blindly; the
    # status webhook carrying our key (callback data) will tell, or staff decide.
    _unknown(message)
    return ExecutionFailed(f"outcome unknown: {result}", retryable=False)


def _unknown(message: Message) -> None:
    message.failure_code = "unknown"
    message.failure_detail = (
        "No answer from WhatsApp: the message may or may not have been sent. "
        "Kazi matches it when WhatsApp reports its status."
    )


def _fail(message: Message, code: str, meaning: str) -> None:
    message.delivery_state = "failed"
    message.failure_code = code
    message.failure_detail = meaning
