"""The soak's history checker (bench/history.py) on hand-made histories: a clean one
passes, and each broken promise (a doubled send, a state going down, a webhook applied
twice or lost, two open conversations, a delayed action run twice or left pending, a
failure missing from the failures page) is named."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest


def _load_history() -> ModuleType:
    """bench/ is a folder of scripts, not a package: load the module by its path."""
    path = Path(__file__).resolve().parents[2] / "bench" / "history.py"
    spec = importlib.util.spec_from_file_location("kazi_bench_history", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


_history = _load_history()
AckedWebhook = _history.AckedWebhook
ActionRow = _history.ActionRow
ConversationRow = _history.ConversationRow
EventRow = _history.EventRow
FailuresPage = _history.FailuresPage
History = _history.History
MessageRow = _history.MessageRow
OutboxRecord = _history.OutboxRecord
SendRecord = _history.SendRecord
StatusRow = _history.StatusRow
acked_webhooks = _history.acked_webhooks
check = _history.check
webhook_items = _history.webhook_items

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def clean() -> History:
    """A customer writes, the business replies once, the reply is sent, delivered, read
    (the statuses arrive shuffled and twice, applied once each), a delayed nudge ran."""
    return History(
        acked=[
            AckedWebhook(message_ids=("wamid.in1",)),
            AckedWebhook(statuses=(("wamid.out1", "read"),)),
            AckedWebhook(statuses=(("wamid.out1", "sent"),)),
            AckedWebhook(statuses=(("wamid.out1", "delivered"),)),
            AckedWebhook(statuses=(("wamid.out1", "read"),)),  # a duplicate delivery
        ],
        events=[
            EventRow(1, "processed", message_ids=("wamid.in1",)),
            EventRow(2, "processed", statuses=(("wamid.out1", "read"),)),
            EventRow(3, "processed", statuses=(("wamid.out1", "sent"),)),
            EventRow(4, "processed", statuses=(("wamid.out1", "delivered"),)),
        ],
        messages=[
            MessageRow(10, "wamid.in1", "inbound", None),
            MessageRow(11, "wamid.out1", "outbound", "read"),
        ],
        statuses=[
            StatusRow(100, 11, "read", 2),
            StatusRow(101, 11, "sent", 3),
            StatusRow(102, 11, "delivered", 4),
        ],
        sends=[SendRecord("wamid.out1", "message:11")],
        outbox=[OutboxRecord(50, "message:11", "done", 11)],
        conversations=[ConversationRow(5, 7, "254711502300", "open")],
        actions=[ActionRow(60, 5, "nudge", 1, "message:10", "done", NOW - timedelta(seconds=5))],
        ended_at=NOW,
    )


def test_a_clean_history_passes() -> None:
    assert check(clean()) == []


def test_a_doubled_send_is_named() -> None:
    history = clean()
    history.sends.append(SendRecord("wamid.out1-again", "message:11"))
    problems = check(history)
    assert problems == ["message:11 sent 2 times"]


def test_a_done_send_the_provider_never_accepted_is_named() -> None:
    history = clean()
    history.sends.clear()
    assert check(history) == ["outbox row 50 (message:11) done, never accepted"]


def test_a_state_going_down_is_named() -> None:
    history = clean()
    history.messages[1] = MessageRow(11, "wamid.out1", "outbound", "delivered")
    assert check(history) == [
        "message 11 went down to delivered after ['read', 'sent', 'delivered']"
    ]


def test_a_failed_status_shows_even_after_read() -> None:
    history = clean()
    history.statuses.append(StatusRow(103, 11, "failed", 4))
    history.messages[1] = MessageRow(11, "wamid.out1", "outbound", "read")
    assert check(history) == [
        "message 11 is read after ['read', 'sent', 'delivered', 'failed'], not failed"
    ]


def test_a_webhook_applied_twice_or_lost_is_named() -> None:
    twice = clean()
    twice.statuses.append(StatusRow(104, 11, "sent", 5))
    twice.messages.append(MessageRow(12, "wamid.in1", "inbound", None))
    problems = check(twice)
    assert "status sent of wamid.out1 acknowledged, applied 2 times" in problems
    assert "message wamid.in1 acknowledged, applied 2 times" in problems

    lost = clean()
    lost.acked.append(AckedWebhook(message_ids=("wamid.in2",)))
    assert check(lost) == ["message wamid.in2 acknowledged but not stored"]

    stuck = clean()
    stuck.events[0] = EventRow(1, "processing", message_ids=("wamid.in1",))
    assert check(stuck) == ["inbound event 1 left processing"]


def test_a_send_left_in_flight_is_named() -> None:
    history = clean()
    history.outbox.append(OutboxRecord(51, "message:12", "sending", 12))
    assert check(history) == ["outbox row 51 (message:12) left sending"]


def test_two_open_conversations_for_one_contact_are_named() -> None:
    history = clean()
    history.conversations.append(ConversationRow(6, 7, "254711502300", "pending"))
    history.conversations.append(ConversationRow(7, 7, "254711502399", "open"))  # other number
    history.conversations.append(ConversationRow(8, 7, "254711502300", "resolved"))
    assert check(history) == ["contact 7 has 2 open conversations on 254711502300"]


def test_delayed_actions_run_once_or_are_cancelled() -> None:
    history = clean()
    history.actions += [
        ActionRow(61, 5, "nudge", 1, "message:13", "cancelled", NOW - timedelta(seconds=1)),
        ActionRow(62, 5, "nudge", 1, "message:14", "pending", NOW + timedelta(seconds=30)),
    ]
    assert check(history) == []  # cancelled, and one not yet due

    history.actions += [
        ActionRow(63, 5, "nudge", 1, "message:15", "pending", NOW - timedelta(seconds=1)),
        ActionRow(64, 5, "nudge", 1, "message:10", "done", NOW - timedelta(seconds=5)),
    ]
    assert check(history) == [
        "'nudge' block 1 for message:10 in conversation 5 scheduled 2 times",
        "delayed action 63 ('nudge') left pending",
    ]


def test_a_failure_missing_from_the_failures_page_is_named() -> None:
    history = clean()
    history.messages.append(MessageRow(13, None, "outbound", "failed", "131026"))
    history.messages.append(MessageRow(14, None, "outbound", "sending", "unknown"))
    history.events.append(EventRow(5, "failed"))
    history.failures = FailuresPage(message_ids=frozenset({13}), event_ids=frozenset())
    assert check(history) == [
        "failed send 14 is not on the failures page",
        "failed event 5 is not on the failures page",
    ]
    history.failures = FailuresPage(message_ids=frozenset({13, 14}), event_ids=frozenset({5}))
    assert check(history) == []


@pytest.mark.parametrize("delivered, kept", [(1, 1), (2, 1), (0, 0)])
def test_only_webhooks_answered_2xx_count_as_acknowledged(delivered: int, kept: int) -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messages": [{"id": "wamid.a", "type": "text"}],
                            "statuses": [{"id": "wamid.b", "status": "delivered"}],
                        },
                    }
                ],
            }
        ],
    }
    assert webhook_items(body) == AckedWebhook(("wamid.a",), (("wamid.b", "delivered"),))
    assert len(acked_webhooks([{"body": body, "delivered": delivered}])) == kept
