"""The soak's history checker: pure functions over rows read after a faulted run.

`bench/soak.py` reads the database and the simulator's logs into the plain records
below (`read_history`), then `check(history)` lists every broken promise:

- every webhook the provider saw acknowledged (a 2xx) was applied exactly once:
  its inbound messages stored once, its statuses recorded once, its event settled;
- no send went out twice: each idempotency key reached the simulator at most once,
  and an outbox row marked done reached it exactly once;
- delivery states only moved up: a message's state is what its recorded statuses
  give, folded in the order they were applied through the ranked state machine,
  and no applied status ranks above the state shown (except after `failed`);
- one open conversation per contact and business number;
- every delayed action that fell due ran once (done or skipped by its guard) or was
  cancelled, and no (rule, block, trigger) was scheduled twice;
- every failure (a failed send, an outcome-unknown send, a failed or flagged event)
  is on the failures page.

The functions take records, not a database, so tests feed them hand-made histories,
including ones that must fail.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.delivery import RANK, next_delivery_state

SETTLED_EVENTS = ("processed", "flagged", "failed")
FINISHED_ACTIONS = ("done", "skipped", "cancelled")


@dataclass(frozen=True)
class AckedWebhook:
    """One webhook body the simulator posted and Kazi answered 2xx at least once."""

    message_ids: tuple[str, ...] = ()  # inbound messages' wamids
    statuses: tuple[tuple[str, str], ...] = ()  # (wamid of the send, status)


@dataclass(frozen=True)
class EventRow:
    id: int
    state: str
    message_ids: tuple[str, ...] = ()
    statuses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MessageRow:
    id: int
    wamid: str | None
    direction: str  # inbound / outbound
    delivery_state: str | None
    failure_code: str | None = None


@dataclass(frozen=True)
class StatusRow:
    id: int  # application order
    message_id: int
    status: str
    event_id: int | None


@dataclass(frozen=True)
class SendRecord:
    """A send the simulator accepted (answered with a wamid)."""

    wamid: str
    key: str | None  # the idempotency key (biz_opaque_callback_data)


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    key: str
    state: str
    message_id: int | None


@dataclass(frozen=True)
class ConversationRow:
    id: int
    contact_id: int
    business_number: str
    status: str


@dataclass(frozen=True)
class ActionRow:
    id: int
    conversation_id: int
    rule: str
    block: int
    trigger: str
    state: str
    due_at: datetime


@dataclass(frozen=True)
class FailuresPage:
    """What the failures page lists (engine/inbox/failures.py)."""

    message_ids: frozenset[int] = frozenset()
    event_ids: frozenset[int] = frozenset()


@dataclass
class History:
    acked: list[AckedWebhook] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    statuses: list[StatusRow] = field(default_factory=list)
    sends: list[SendRecord] = field(default_factory=list)
    outbox: list[OutboxRecord] = field(default_factory=list)
    conversations: list[ConversationRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    failures: FailuresPage = field(default_factory=FailuresPage)
    ended_at: datetime | None = None  # actions due before this must have finished


def check(history: History) -> list[str]:
    """Every broken promise in `history`, one line each; empty when it holds."""
    return [
        *acknowledged_applied_once(history),
        *no_send_twice(history.sends, history.outbox, history.messages),
        *states_only_up(history.messages, history.statuses),
        *one_open_conversation(history.conversations),
        *delayed_actions_once(history.actions, history.ended_at),
        *failures_visible(history.messages, history.events, history.failures),
    ]


def acknowledged_applied_once(history: History) -> list[str]:
    problems: list[str] = []
    inbound = Counter(
        m.wamid for m in history.messages if m.direction == "inbound" and m.wamid is not None
    )
    by_wamid = {m.wamid: m for m in history.messages if m.wamid}
    recorded = Counter((s.message_id, s.status) for s in history.statuses)
    stored_messages = {w for e in history.events for w in e.message_ids}
    stored_statuses = {s for e in history.events for s in e.statuses}
    for event in history.events:
        if event.state not in SETTLED_EVENTS:
            problems.append(f"inbound event {event.id} left {event.state}")
    acked_messages = {w for hook in history.acked for w in hook.message_ids}
    acked_statuses = {s for hook in history.acked for s in hook.statuses}
    for wamid in sorted(acked_messages):
        if wamid not in stored_messages:
            problems.append(f"message {wamid} acknowledged but not stored")
        elif inbound[wamid] != 1:
            problems.append(f"message {wamid} acknowledged, applied {inbound[wamid]} times")
    for wamid, status in sorted(acked_statuses):
        if (wamid, status) not in stored_statuses:
            problems.append(f"status {status} of {wamid} acknowledged but not stored")
            continue
        message = by_wamid.get(wamid)
        if message is None:
            problems.append(f"status {status} of {wamid}: no such message")
        elif recorded[(message.id, status)] != 1:
            times = recorded[(message.id, status)]
            problems.append(f"status {status} of {wamid} acknowledged, applied {times} times")
    return problems


def no_send_twice(
    sends: Iterable[SendRecord], outbox: Iterable[OutboxRecord], messages: Iterable[MessageRow] = ()
) -> list[str]:
    """Each idempotency key reached the provider at most once; a done send reached it
    exactly once (its message knows the wamid the provider answered with)."""
    problems: list[str] = []
    accepted = list(sends)
    per_key = Counter(s.key for s in accepted if s.key)
    for key, count in sorted(per_key.items()):
        if count > 1:
            problems.append(f"{key} sent {count} times")
    wamids = {s.wamid for s in accepted}
    wamid_of = {m.id: m.wamid for m in messages}
    for row in outbox:
        if row.state in ("queued", "sending"):
            problems.append(f"outbox row {row.id} ({row.key}) left {row.state}")
        if row.state != "done" or row.message_id is None or not row.key.startswith("message:"):
            continue
        wamid = wamid_of.get(row.message_id)
        if wamid is None or wamid not in wamids:
            problems.append(f"outbox row {row.id} ({row.key}) done, never accepted")
    return problems


def states_only_up(messages: Iterable[MessageRow], statuses: Iterable[StatusRow]) -> list[str]:
    problems: list[str] = []
    applied: dict[int, list[str]] = defaultdict(list)
    for status in sorted(statuses, key=lambda s: s.id):
        applied[status.message_id].append(status.status)
    for message in messages:
        if message.direction != "outbound" or message.id not in applied:
            continue
        reported = applied[message.id]
        folded = "accepted"
        for status in reported:
            folded = next_delivery_state(folded, status)
        shown = message.delivery_state or "queued"
        top = max((RANK.get(s, -1) for s in reported if s != "failed"), default=-1)
        if shown != "failed" and RANK.get(shown, -1) < top:
            problems.append(f"message {message.id} went down to {shown} after {reported}")
        elif shown != folded:
            problems.append(f"message {message.id} is {shown} after {reported}, not {folded}")
    return problems


def one_open_conversation(conversations: Iterable[ConversationRow]) -> list[str]:
    open_per = Counter(
        (c.contact_id, c.business_number) for c in conversations if c.status != "resolved"
    )
    return [
        f"contact {contact} has {count} open conversations on {number}"
        for (contact, number), count in sorted(open_per.items())
        if count > 1
    ]


def delayed_actions_once(actions: Iterable[ActionRow], ended_at: datetime | None) -> list[str]:
    problems: list[str] = []
    rows = list(actions)
    scheduled = Counter((a.conversation_id, a.rule, a.block, a.trigger) for a in rows)
    for (conversation, rule, block, trigger), count in sorted(scheduled.items()):
        if count > 1:
            problems.append(
                f"{rule!r} block {block} for {trigger} in conversation {conversation} "
                f"scheduled {count} times"
            )
    for action in rows:
        due = ended_at is None or action.due_at <= ended_at
        if due and action.state not in FINISHED_ACTIONS:
            problems.append(f"delayed action {action.id} ({action.rule!r}) left {action.state}")
    return problems


def failures_visible(
    messages: Iterable[MessageRow], events: Iterable[EventRow], page: FailuresPage
) -> list[str]:
    problems: list[str] = []
    for message in messages:
        failed = message.direction == "outbound" and (
            message.delivery_state == "failed" or message.failure_code == "unknown"
        )
        if failed and message.id not in page.message_ids:
            problems.append(f"failed send {message.id} is not on the failures page")
    for event in events:
        if event.state in ("failed", "flagged") and event.id not in page.event_ids:
            problems.append(f"{event.state} event {event.id} is not on the failures page")
    return problems


# --- reading webhook bodies --------------------------------------------------------------


def webhook_items(body: Mapping[str, Any]) -> AckedWebhook:
    """The inbound message ids and (message id, status) pairs a webhook body carries."""
    messages: list[str] = []
    statuses: list[tuple[str, str]] = []
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            messages += [str(m["id"]) for m in value.get("messages") or [] if "id" in m]
            statuses += [
                (str(s["id"]), str(s["status"]))
                for s in value.get("statuses") or []
                if "id" in s and "status" in s
            ]
    return AckedWebhook(tuple(messages), tuple(statuses))


def acked_webhooks(deliveries: Iterable[Mapping[str, Any]]) -> list[AckedWebhook]:
    """The simulator's delivery log (GET /_sim/deliveries): the bodies answered 2xx."""
    return [webhook_items(d["body"]) for d in deliveries if int(d.get("delivered") or 0) > 0]
