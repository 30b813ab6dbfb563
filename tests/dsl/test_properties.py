"""Properties: valid rule sets compile deterministically; evaluation never raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.workspace import compile_workspace
from engine.core.rules import DomainEvent, ScheduleDelayed, Snapshot, evaluate, resume
from engine.workspaces.installed import INSTALLED
from tests.dsl.helpers import compile_text, graph_of

ROOT = Path(__file__).resolve().parents[2]

TRIGGERS = [
    "message received",
    "conversation opened",
    'stage entered "quote"',
    'stage left "inquiry"',
    "payment confirmed",
    "payment failed",
    "task due",
    'sla breached "standard"',
    'integration "erp" event "stock_low"',
    "every weekday at 08:30",
]
ATOMS = [
    'conversation.priority is "high"',
    'conversation.status in ["open", "waiting_on_us"]',
    "contact.vip",
    "contact.county matches /^nai/i",
    "order.amount >= 1000",
    "order.items < 3",
    "time since conversation.opened_at > 2h",
    "within business hours",
    'has tag "vip"',
    "contact.email is empty",
    'conversation.tags contains "repeat"',
    'conversation.stage is not "payment"',
]
ACTIONS = [
    'send template "quote_sent"',
    'add note "Seen {contact.name} at {conversation.stage}"',
    'notify team "sales" "Look at {contact.first_name}"',
    'create task "Call back" for owner due in 2 business hours',
    'set conversation.priority to "urgent"',
    'request payment of order.amount via "mpesa"',
    'draft reply "Asante {contact.first_name}"',
    'remind teammate "otieno" "Follow up" in 1d',
]


@st.composite
def rule_sets(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 8))
    rules = []
    for n in range(count):
        trigger = draw(st.sampled_from(TRIGGERS))
        atoms = draw(st.lists(st.sampled_from(ATOMS), min_size=0, max_size=4))
        joiner = draw(st.sampled_from([" and ", " or "]))
        condition = f"if {joiner.join(atoms)}\n" if atoms else ""
        actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))
        body = "\n".join(f"  {a}" for a in actions)
        delayed = ""
        if draw(st.booleans()):
            delayed = '\nafter 3h unless customer replied\n  send template "quote_reminder"'
        rules.append(f'rule "r{n}"\nwhen {trigger}\n{condition}then\n{body}{delayed}\nend\n')
    return "\n".join(rules)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets())
def test_valid_rule_sets_compile_deterministically(text: str) -> None:
    first, diagnostics = compile_text(text)
    assert first is not None, [d.headline() for d in diagnostics if d.is_error]
    second, _ = compile_text(text)
    assert second is not None
    assert first.version == second.version
    assert first.source == second.source


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        ["2026-03-02T10:00:00+03:00", "2026-03-02T10:00:00", "5,000", "vip", "quote"]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["stage", "status", "priority", "tags", "owner", "opened_at", "last_inbound_at", "amount",
     "items", "vip", "county", "email", "text", "button", "type", "receipt", "name", "first_name",
     "language", "customer_type", "pickup_in_store", "reference", "waiting_on"]
)  # fmt: skip
records = st.dictionaries(field_names, json_values, max_size=8) | st.dictionaries(
    st.text(max_size=6), json_values, max_size=3
)
payloads = st.dictionaries(
    st.sampled_from(
        ["message", "payment", "task", "sla", "inquiry", "status", "vehicle", "booking_id"]
    ),
    json_values | records,
    max_size=4,
)
kinds = st.sampled_from(
    ["message_received", "conversation_opened", "stage_entered", "stage_left", "payment_confirmed",
     "payment_failed", "task_due", "sla_breached", "sla_warning", "integration_event", "schedule",
     "tag_added", "status_changed", "assigned", "inquiry_classified", "nonsense"]
)  # fmt: skip
keys = st.none() | st.sampled_from(
    ["quote", "payment", "inquiry", "vip", "standard", "erp:stock_low",
     "order_system:order.stage_changed", "Good morning to last night's customers", "warranty",
     "delivery", "damaged", "invoice"]
)  # fmt: skip

RETAIL = compile_workspace(ROOT / "configs" / "retail", capabilities=INSTALLED).graph
DISTRIBUTOR = compile_workspace(ROOT / "configs" / "distributor", capabilities=INSTALLED).graph
SHOP = graph_of(
    "\n".join(
        f'rule "p{n}"\nwhen {trigger}\nif {" or ".join(ATOMS)}\nthen\n  '
        + "\n  ".join(ACTIONS)
        + "\nafter 3h unless customer replied or stage changed\n"
        + '  send template "quote_reminder"\nend\n'
        for n, trigger in enumerate(TRIGGERS)
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=kinds,
    key=keys,
    data=payloads,
    conversation=records,
    contact=records,
    objects=st.dictionaries(
        st.sampled_from(["order", "booking", "payment"]), records | json_values, max_size=2
    ),
    minutes=st.integers(0, 60 * 24 * 30),
)
def test_evaluate_never_raises_and_the_trace_agrees(
    kind: str,
    key: str | None,
    data: dict[str, Any],
    conversation: dict[str, Any],
    contact: dict[str, Any],
    objects: dict[str, Any],
    minutes: int,
) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=minutes)
    event = DomainEvent(kind, "e", now, key, data)
    snapshot = Snapshot(conversation, contact, objects)
    for graph in (SHOP, RETAIL, DISTRIBUTOR):
        assert graph is not None
        fast = evaluate(graph, event, snapshot, now)
        traced = evaluate(graph, event, snapshot, now, trace=True)
        assert fast.effects == traced.effects
        for effect in fast.effects:
            if isinstance(effect, ScheduleDelayed):
                resume(graph, effect, snapshot, now + timedelta(hours=3))
