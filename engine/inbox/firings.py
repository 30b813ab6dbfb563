"""Rule firings in words, for the conversation's history: which rule, set off by what,
and what it did."""

from __future__ import annotations

from typing import Any

from engine.models import RuleFiring

_EVENTS = {
    "message_received": "a customer message",
    "conversation_opened": "the conversation opening",
    "stage_entered": "a stage being entered",
    "stage_left": "a stage being left",
    "status_changed": "a status change",
    "assigned": "an assignment",
    "tag_added": "a tag",
    "task_due": "a task falling due",
    "sla_warning": "an SLA warning",
    "sla_breached": "an SLA breach",
    "integration_event": "an integration event",
    "payment_confirmed": "a confirmed payment",
    "inquiry_classified": "a classified inquiry",
    "payment_failed": "a failed payment",
    "schedule": "a schedule",
    "scheduled": "its delay running out",
}


# The one setting that says what each action did, in the order worth naming.
_SUBJECT = ("template", "stage", "tag", "title", "field", "integration", "teammate", "team")


def _action(action: dict[str, Any]) -> str:
    kind = str(action.get("kind", ""))
    if kind == "schedule_delayed":
        return f"wait until {action['due_at']}" if action.get("due_at") else "wait"
    words = kind.replace("_", " ")
    for key in _SUBJECT:
        value = action.get(key)
        if isinstance(value, str) and value:
            return f"{words} {value}"
    recipient = action.get("recipient") or action.get("assignee")
    if isinstance(recipient, dict) and recipient.get("name"):
        return f"{words} {recipient['name']}"
    if isinstance(recipient, dict) and recipient.get("kind"):
        return f"{words} the {recipient['kind']}"
    return words


def describe_firing(firing: RuleFiring) -> str:
    """ "ran on a customer message: send template welcome, add tag lead"."""
    detail = firing.detail or {}
    event = str(detail.get("event", ""))
    cause = _EVENTS.get(event, event.replace("_", " ") or "an event")
    if firing.outcome == "stopped":
        return f"was stopped on {cause}: it kept firing (see the manager's view)"
    actions = [_action(a) for a in detail.get("actions", []) if isinstance(a, dict)]
    done = ", ".join(a for a in actions if a)
    return f"ran on {cause}" + (f": {done}" if done else "")
