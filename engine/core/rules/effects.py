"""Effects: what a rule decided should happen, as plain data. Something else carries them out."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.rich import RichMessage, to_spec


@dataclass(frozen=True)
class Recipient:
    """Who an action is for: the conversation's owner, a teammate or a team."""

    kind: str  # "owner" | "teammate" | "team"
    name: str | None  # the handle or team name; for "owner", the owner at evaluation time


@dataclass(frozen=True)
class Effect:
    rule: str


@dataclass(frozen=True)
class Assign(Effect):
    teammate: str | None = None
    team: str | None = None
    unassign: bool = False  # a person hands the conversation back to the queue (no owner)
    claim: bool = False  # a person takes an unowned conversation for themselves
    # A person decided on the owner they saw: refused if it changed meanwhile (a stale view).
    check_owner: bool = False
    expected_owner: str | None = None


@dataclass(frozen=True)
class Route(Effect):
    """Run the workspace's routing rules for the conversation again."""


@dataclass(frozen=True)
class MoveStage(Effect):
    pipeline: str = ""
    stage: str = ""
    subject: str | None = None  # a person names the object they move; a rule moves the newest
    # A person moved from the stage they saw: refused if it changed meanwhile (a stale view).
    check_from: bool = False
    from_stage: str | None = None


@dataclass(frozen=True)
class AddTag(Effect):
    tag: str = ""


@dataclass(frozen=True)
class RemoveTag(Effect):
    tag: str = ""


@dataclass(frozen=True)
class CreateTask(Effect):
    title: str = ""
    assignee: Recipient | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class Remind(Effect):
    recipient: Recipient | None = None
    text: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class SendTemplate(Effect):
    template: str = ""
    language: str = ""
    variables: tuple[str, ...] = ()  # the body's {{1}}, {{2}}, ...
    header_variables: tuple[str, ...] = ()
    button_variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendFromRecord(Effect):
    """A person sends a template whose values come from the record, as a rule's send does:
    how staff send a message that was held for an empty value once they have filled it in."""

    template: str = ""
    language: str = ""


@dataclass(frozen=True)
class SendText(Effect):
    """Free text: only valid inside WhatsApp's 24-hour window, which the executor checks."""

    text: str = ""
    missing: tuple[str, ...] = ()  # what the text reads that was empty: then it is not sent
    reply_to: int | None = None  # a person quoting a message (its id in the record)


@dataclass(frozen=True)
class SendRich(Effect):
    """Reply buttons, a list, a location, a contact card or a reaction (engine.core.rich):
    service messages, only inside the 24-hour window like free text."""

    message: RichMessage = field(default_factory=lambda: RichMessage("buttons"))
    missing: tuple[str, ...] = ()  # what the text reads that was empty: then it is not sent


@dataclass(frozen=True)
class DraftReply(Effect):
    """A reply staged for a teammate to approve; never sent by itself."""

    text: str = ""


@dataclass(frozen=True)
class Notify(Effect):
    recipient: Recipient | None = None
    text: str = ""


@dataclass(frozen=True)
class AddNote(Effect):
    text: str = ""


@dataclass(frozen=True)
class SetField(Effect):
    owner: str = ""  # "conversation", "contact" or a business object kind
    field: str = ""
    value: Any = None
    subject: str | None = None  # a person names the object; a rule sets the newest of its kind


@dataclass(frozen=True)
class CreateObject(Effect):
    """A new business object about this conversation; it enters its pipeline's first stage."""

    object_kind: str = ""  # "order", "booking" ...
    pipeline: str | None = None  # None: the kind's only pipeline, if it has one
    reference: str | None = None  # None: made up from the conversation ("ORDER-12-1")
    status: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class CallIntegration(Effect):
    integration: str = ""
    operation: str = ""


@dataclass(frozen=True)
class RequestPayment(Effect):
    amount: float | None = None
    provider: str = ""
    for_kind: str | None = None  # the business object the amount comes from ("order")


@dataclass(frozen=True)
class Escalate(Effect):
    """Ask one named person to decide, with the reason they read first."""

    recipient: Recipient | None = None
    reason: str = ""


@dataclass(frozen=True)
class ScheduleDelayed(Effect):
    """A delayed block: at `due_at`, `resume` re-checks `guard` against fresh state."""

    block: int = 0  # index of the delayed block within the rule
    due_at: datetime | None = None
    scheduled_at: datetime | None = None
    event_id: str = ""
    stage: str | None = None  # the stage when scheduled, for the `stage changed` guard
    status: str | None = None  # the status when scheduled, for the `status changed` guard
    guard: str | None = None  # the guard's source text, for people reading the schedule


@dataclass(frozen=True)
class Held(Effect):
    """What became of a send or payment request that read an empty value: held for staff.

    Never produced by evaluation; the reducer puts it in place of the effect it held, so
    `kazi test` and the rule history show that nothing went out."""

    action: str = ""  # "send_template", "send_text" or "request_payment"
    name: str = ""  # the template, or the payment provider
    missing: tuple[str, ...] = ()


# ----- changes only people make (through a Command), never a rule -------------------------


@dataclass(frozen=True)
class Snooze(Effect):
    until: datetime | None = None


@dataclass(frozen=True)
class CancelDelay(Effect):
    delay: str = ""  # the pending delayed block's key


@dataclass(frozen=True)
class LineItem:
    """One line of an order: what, how many, at what price each. Money is exact."""

    description: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class SetLineItems(Effect):
    """Replace an object's lines; its amount becomes their sum."""

    owner: str = ""  # the object's kind
    subject: str | None = None  # the object's key
    items: tuple[LineItem, ...] = ()


@dataclass(frozen=True)
class DecideEscalation(Effect):
    """The decision-maker's answer to an escalation: approved or declined, with a note."""

    escalation: int = 0  # the escalation's id, checked by the adapter before it asks
    decision: str = ""  # "approved" | "declined"
    note: str = ""
    asked_by: str | None = None  # who escalated, told of the decision


@dataclass(frozen=True)
class Replied(Effect):
    """A teammate sent the customer something written elsewhere (a file): it counts as a reply."""


def effect_to_json(effect: Effect) -> dict[str, Any]:
    """A JSON-ready dict: `{"kind": "send_template", "rule": ..., ...}`."""
    out: dict[str, Any] = {"kind": effect_kind(effect)}
    for f in fields(effect):
        value = getattr(effect, f.name)
        if isinstance(value, Recipient):
            value = {"kind": value.kind, "name": value.name}
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = [
                {
                    "description": v.description,
                    "quantity": str(v.quantity),
                    "unit_price": str(v.unit_price),
                }
                if isinstance(v, LineItem)
                else v
                for v in value
            ]
        elif isinstance(value, RichMessage):
            value = to_spec(value)
        out[f.name] = value
    return out


def effect_kind(effect: Effect) -> str:
    """`SendTemplate` -> `send_template`."""
    name = type(effect).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
