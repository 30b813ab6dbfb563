"""The typed, checked picture of one workspace folder's YAML files.

The contract between the YAML loader in `dsl` (which builds it), the rule checker
and compiler (which read it) and the engine (which runs on it); it lives in the
core so the engine never imports the config language. Every named thing keeps the
span where it was declared so diagnostics can point at it. Expressions (routing
conditions, SLA selectors, template variables) are kept as source text plus span;
the rule language's expression grammar parses and checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from enum import StrEnum

from engine.core.source import Span


@dataclass(frozen=True)
class Expression:
    """Source text of an expression in the rule language, and where it sits."""

    text: str
    span: Span


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    LIST = "list"


@dataclass(frozen=True)
class CustomField:
    """A field a workspace adds to contacts, conversations or business objects."""

    owner: str  # "contact" | "conversation" | an object kind such as "order"
    name: str
    type: FieldType
    choices: tuple[str, ...] = ()
    span: Span | None = None
    label: str | None = None


@dataclass(frozen=True)
class OpeningHours:
    weekday: int  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class BusinessNumber:
    name: str
    phone: str  # E.164
    phone_number_id: str
    span: Span | None = None
    messages_per_second: float | None = None  # send rate limit; None: WhatsApp's own only
    pipeline: str | None = None  # where a new conversation on this number starts


@dataclass(frozen=True)
class Teammate:
    handle: str
    name: str
    email: str
    role: str  # "agent" | "manager" | "admin"
    teams: tuple[str, ...] = ()
    capacity: int | None = None
    languages: tuple[str, ...] = ()
    span: Span | None = None
    # When they work, in the workspace's timezone; None: no shifts written, always on.
    shifts: tuple[OpeningHours, ...] | None = None


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...]
    span: Span | None = None
    label: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    waiting_on: str | None = None  # "us" | "customer" | None
    terminal: bool = False
    span: Span | None = None


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    span: Span | None = None


@dataclass(frozen=True)
class Pipeline:
    name: str
    subject: str  # "conversation" or a business object kind such as "order"
    stages: tuple[Stage, ...]
    moves: tuple[Move, ...]
    initial: str
    span: Span | None = None
    label: str | None = None

    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def allows(self, source: str, target: str) -> bool:
        return any(m.source == source and m.target == target for m in self.moves)


@dataclass(frozen=True)
class RoutingRule:
    name: str
    when: Expression | None
    team: str | None
    teammate: str | None
    strategy: str  # "unassigned" | "round_robin" | "least_busy" | "sticky"
    span: Span | None = None


@dataclass(frozen=True)
class Duration:
    """A duration as written (`30m`, `2 business days`) and what it amounts to.

    `minutes` is calendar minutes, or business minutes when `business` is true; a business
    day counts as the workspace's `business_day_minutes` (its average open day).
    """

    text: str
    amount: int
    unit: str  # "minutes" | "hours" | "days"
    business: bool
    minutes: int
    span: Span | None = None


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    applies_when: Expression | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_before_minutes: int | None
    business_hours: bool
    span: Span | None = None
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None
    warn_before: Duration | None = None
    # What pauses the resolution clock (engine.core.sla.PAUSE_REASONS); both by default.
    pause_when: tuple[str, ...] = ("waiting_on_customer", "snoozed")
    first_response_when_snoozed: str = "keep_running"  # or "pause"


@dataclass(frozen=True)
class TemplateVariable:
    position: int  # {{1}}, {{2}}, ... in the component text
    component: str  # "header" | "body" | "button"
    value: Expression


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str  # "utility" | "marketing" | "authentication"
    body: str
    header: str | None = None
    footer: str | None = None
    quick_replies: tuple[str, ...] = ()
    variables: tuple[TemplateVariable, ...] = ()
    span: Span | None = None


# What a quick reply's text may say in {{...}}; filled per conversation and agent.
QUICK_REPLY_VARIABLES: tuple[str, ...] = ("contact.first_name", "contact.name", "agent.first_name")


@dataclass(frozen=True)
class QuickReply:
    """A saved answer an agent inserts into the reply box (replies.yaml)."""

    shortcut: str  # "/price"
    title: str
    text: str  # may hold {{contact.first_name}} and the other QUICK_REPLY_VARIABLES
    language: str | None = None
    span: Span | None = None


class ConsentAction(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


@dataclass(frozen=True)
class ConsentKeyword:
    """Words a customer sends to stop (or restart) messages the business starts, in one
    language, and what Kazi answers in that language (consent.yaml)."""

    action: ConsentAction
    language: str
    words: tuple[str, ...]
    reply: str | None = None
    span: Span | None = None

    def said_in(self, text: str) -> bool:
        """Whether the whole message is one of the words: "stop", "STOP!" and " Acha. "
        are; "please don't stop" is not."""
        said = text.strip().strip(".!?,;:'\" ").casefold()
        return any(said == word.casefold() for word in self.words)


@dataclass(frozen=True)
class BroadcastSegment:
    """A segment written in broadcasts.yaml, for consultants to review: who a broadcast
    to it reaches (engine.contacts.segments.Segment has the same parts)."""

    name: str
    tags: tuple[str, ...] = ()
    language: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    stage: str | None = None
    active_days: int | None = None
    description: str | None = None
    span: Span | None = None


@dataclass(frozen=True)
class BroadcastSettings:
    """broadcasts.yaml: its segments, how many customers a day the business may write to
    first (WhatsApp's messaging limit of the number's tier), and how long after a
    broadcast a customer's message counts as a reply to it in the report."""

    segments: tuple[BroadcastSegment, ...] = ()
    messaging_limit: int = 250
    reply_window_minutes: int = 3 * 24 * 60

    def segment(self, name: str) -> BroadcastSegment | None:
        return next((s for s in self.segments if s.name == name), None)


@dataclass(frozen=True)
class Integration:
    name: str
    kind: str  # "whatsapp" | "mpesa" | "webhook" | ...
    settings: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # setting -> environment variable name
    span: Span | None = None
    secret_spans: dict[str, Span] = field(default_factory=dict)  # setting -> where env:NAME is


# ----- ai.yaml and knowledge.yaml ------------------------------------------------------------


@dataclass(frozen=True)
class Intent:
    """What a customer may want (ai.yaml): words and examples that say it, in any language."""

    name: str
    label: str
    keywords: tuple[str, ...] = ()  # words or phrases, English and Swahili alike
    examples: tuple[str, ...] = ()  # whole messages that mean this intent
    stage: str | None = None  # the stage this intent usually leads to (for suggestions)
    reply: str | None = None  # a quick reply's shortcut a draft may start from
    facts: tuple[str, ...] = ()  # knowledge a draft quotes: "hours", "policy:<name>"
    span: Span | None = None


@dataclass(frozen=True)
class AiEndpoint:
    """An OpenAI-compatible chat-completions server: hosted, llama.cpp, vLLM or Ollama."""

    base_url: str
    model: str
    key_variable: str | None = None  # the environment variable holding the API key
    timeout_seconds: float = 8.0
    retries: int = 1
    breaker_failures: int = 3  # failures in a row that open the circuit breaker
    breaker_cooldown_seconds: int = 60
    input_cost_per_1k: Decimal = Decimal(0)  # in the budget's currency, per 1,000 tokens
    output_cost_per_1k: Decimal = Decimal(0)
    span: Span | None = None


@dataclass(frozen=True)
class AiMasking:
    """What is replaced by placeholders before text leaves the machine for a model."""

    numbers: bool = True  # phone numbers, amounts, any run of digits
    names: bool = True  # the customer's and teammates' names


@dataclass(frozen=True)
class AiConfig:
    provider: str = "offline"  # "offline" | "openai_compat"
    endpoint: AiEndpoint | None = None
    intents: tuple[Intent, ...] = ()
    min_confidence: float = 0.35  # below it a message is "unclear", not an intent
    classify_unmatched: bool = True  # classify customer messages no rule answered
    summary_after_messages: int = 12  # a thread this long shows its summary when opened
    masking: AiMasking = AiMasking()
    monthly_budget: Decimal | None = None  # None: no limit
    budget_currency: str = "USD"
    span: Span | None = None

    def intent(self, name: str) -> Intent | None:
        return next((i for i in self.intents if i.name == name), None)


@dataclass(frozen=True)
class Product:
    """A catalogue line of knowledge.yaml: what drafts may quote and extraction recognises."""

    name: str
    price: Decimal
    unit: str | None = None  # "each", "per carton"
    aliases: tuple[str, ...] = ()
    span: Span | None = None


@dataclass(frozen=True)
class DeliveryArea:
    name: str
    fee: Decimal
    when: str | None = None  # "same day", "next morning"
    aliases: tuple[str, ...] = ()
    span: Span | None = None


@dataclass(frozen=True)
class Policy:
    name: str  # "returns", "warranty", "payment"
    text: str
    span: Span | None = None


@dataclass(frozen=True)
class Knowledge:
    """Approved business information (knowledge.yaml): the only facts a draft may state."""

    currency: str | None = None
    products: tuple[Product, ...] = ()
    delivery: tuple[DeliveryArea, ...] = ()
    hours: str | None = None
    policies: tuple[Policy, ...] = ()
    span: Span | None = None


@dataclass(frozen=True)
class WorkspaceConfig:
    slug: str
    name: str
    timezone: str
    opening_hours: tuple[OpeningHours, ...]
    holidays: tuple[Holiday, ...]
    numbers: tuple[BusinessNumber, ...]
    teammates: tuple[Teammate, ...]
    teams: tuple[Team, ...]
    fields: tuple[CustomField, ...]
    pipelines: tuple[Pipeline, ...]
    routing: tuple[RoutingRule, ...]
    sla_policies: tuple[SlaPolicy, ...]
    templates: tuple[Template, ...]
    integrations: tuple[Integration, ...]
    root: str  # the folder it was loaded from
    currency: str | None = None
    default_language: str | None = None
    object_kinds: tuple[str, ...] = ()  # kinds of business object: built-in and declared
    business_day_minutes: int = 480  # length of an average open day, for "N business days"
    quick_replies: tuple[QuickReply, ...] = ()  # replies.yaml
    consent_keywords: tuple[ConsentKeyword, ...] = ()  # consent.yaml
    ai: AiConfig = AiConfig()  # ai.yaml; the offline provider with no intents when absent
    knowledge: Knowledge = Knowledge()  # knowledge.yaml
    broadcasts: BroadcastSettings = BroadcastSettings()  # broadcasts.yaml

    @classmethod
    def empty(cls, slug: str = "") -> WorkspaceConfig:
        """No hours, numbers, people, pipelines or rules: what a workspace without a valid
        config runs on, so staff can still work its conversations by hand."""
        return cls(slug, slug, "UTC", (), (), (), (), (), (), (), (), (), (), (), root="")

    def teammate(self, handle: str) -> Teammate | None:
        return next((t for t in self.teammates if t.handle == handle), None)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def integration(self, name: str) -> Integration | None:
        return next((i for i in self.integrations if i.name == name), None)

    def consent_keyword(self, text: str) -> ConsentKeyword | None:
        """The opt-out or opt-in keyword a customer's message is, if it is one."""
        return next((k for k in self.consent_keywords if k.said_in(text)), None)

    def fields_of(self, owner: str) -> tuple[CustomField, ...]:
        """The custom fields of contact, conversation or an object kind."""
        return tuple(f for f in self.fields if f.owner == owner)

    def pipeline(self, name: str) -> Pipeline | None:
        return next((p for p in self.pipelines if p.name == name), None)

    def starting_pipeline(self, business_phone: str) -> Pipeline | None:
        """The pipeline a new conversation on this number starts in: the number's own,
        else (when no number names one) the first conversation pipeline."""
        if any(n.pipeline for n in self.numbers):
            number = next((n for n in self.numbers if n.phone == business_phone), None)
            return self.pipeline(number.pipeline) if number and number.pipeline else None
        return next((p for p in self.pipelines if p.subject == "conversation"), None)

    def template(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name == name), None)
