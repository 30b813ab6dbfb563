"""The rule language's syntax tree: small frozen dataclasses, each with its source span."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span

# ----- expressions -----------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """`contact.name`, `order.amount`, `event.data.sku`."""

    parts: tuple[str, ...]
    span: Span

    @property
    def root(self) -> str:
        return self.parts[0]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Text:
    value: str
    span: Span


@dataclass(frozen=True)
class Number:
    value: float
    span: Span


@dataclass(frozen=True)
class Boolean:
    value: bool
    span: Span


@dataclass(frozen=True)
class DurationLit:
    """`30m`, `2 hours`, `3 business days`."""

    amount: float
    unit: str  # "s" | "m" | "h" | "d" | "w"
    business: bool
    span: Span

    @property
    def seconds(self) -> float:
        return self.amount * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[self.unit]


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Compare:
    """`a == b`, `a is b`, `a > b`; `op` is one of == != < <= > >=."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class In:
    value: Expr
    options: Expr
    negated: bool
    span: Span


@dataclass(frozen=True)
class Contains:
    subject: Expr
    needle: Expr
    span: Span


@dataclass(frozen=True)
class ContainsAny:
    """Keyword match: any of the words, case-insensitive, on word boundaries."""

    subject: Expr
    words: ListLit
    span: Span


@dataclass(frozen=True)
class Matches:
    subject: Expr
    pattern: str
    ignore_case: bool
    span: Span


@dataclass(frozen=True)
class IsEmpty:
    subject: Expr
    negated: bool
    span: Span


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Not:
    item: Expr
    span: Span


@dataclass(frozen=True)
class BusinessHours:
    within: bool
    span: Span


@dataclass(frozen=True)
class TimeSince:
    field: Field
    span: Span


@dataclass(frozen=True)
class HasTag:
    tag: str
    span: Span


@dataclass(frozen=True)
class SinceScheduled:
    """Guards only: `customer replied`, `we replied`, `stage changed`, `status changed`."""

    what: str  # "customer_replied" | "we_replied" | "stage_changed" | "status_changed"
    span: Span


Expr = (
    Field
    | Text
    | Number
    | Boolean
    | DurationLit
    | ListLit
    | Compare
    | In
    | Contains
    | ContainsAny
    | Matches
    | IsEmpty
    | And
    | Or
    | Not
    | BusinessHours
    | TimeSince
    | HasTag
    | SinceScheduled
)

# ----- rules -----------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A quoted name in the source: a stage, template, team, tag..., with its span."""

    value: str
    span: Span


@dataclass(frozen=True)
class Trigger:
    kind: str  # an engine.core TriggerKind value
    subject: Name | None  # the stage / status / tag / SLA policy / integration event
    integration: Name | None
    days: str | None  # schedules: "day", "weekday", "monday"...
    at: str | None  # schedules: "08:30"
    span: Span


@dataclass(frozen=True)
class Recipient:
    kind: str  # "owner" | "teammate" | "team"
    name: Name | None
    span: Span


@dataclass(frozen=True)
class Action:
    """One action. `kind` picks the meaning of the optional parts."""

    kind: str
    span: Span
    name: Name | None = None  # stage, tag, template, integration, provider
    extra: Name | None = None  # pipeline of a move, operation of an integration call
    text: Name | None = None  # task title, note, message text
    recipient: Recipient | None = None
    duration: DurationLit | None = None
    target: Field | None = None  # the field `set` writes
    value: Expr | None = None  # the value `set` writes, the amount of a payment request
    choices: tuple[Name, ...] = ()  # `send buttons`: the buttons' titles
    sections: tuple[ListPart, ...] = ()  # `send list`: its sections of rows


@dataclass(frozen=True)
class ListPart:
    """One section of a `send list`: an optional title and its rows' titles."""

    title: Name | None
    rows: tuple[Name, ...]


@dataclass(frozen=True)
class Block:
    delay: DurationLit | None
    guard: Expr | None
    actions: tuple[Action, ...]
    span: Span


@dataclass(frozen=True)
class Rule:
    name: Name
    trigger: Trigger
    condition: Expr | None
    blocks: tuple[Block, ...]
    span: Span


@dataclass(frozen=True)
class RuleFile:
    path: str
    rules: tuple[Rule, ...]
