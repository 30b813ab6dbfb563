"""The AI port's vocabulary: five jobs, each with a typed request and a typed answer.

Every answer carries a confidence (0 to 1) and says where it came from, so the page
can show "offline, 0.72" or "model gpt-4o-mini, 0.91" next to it. Nothing here sends
anything: an answer is a suggestion staff act on (DESIGN rule 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Job(StrEnum):
    CLASSIFY = "classify"
    EXTRACT = "extract"
    SUMMARISE = "summarise"
    DRAFT = "draft"
    SUGGEST = "suggest"


@dataclass(frozen=True)
class Source:
    """Who answered: the offline provider, or a model (by name). `fallback_reason` says why
    the offline provider answered in place of a configured model."""

    provider: str  # "offline" | "openai_compat"
    model: str | None = None
    fallback_reason: str | None = None

    def label(self) -> str:
        text = f"model {self.model}" if self.model else self.provider
        if self.fallback_reason:
            text += f" (model unavailable: {self.fallback_reason})"
        return text


OFFLINE = Source("offline")


# ----- the thread a job reads ------------------------------------------------------------


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    RULE = "rule"


@dataclass(frozen=True)
class ThreadLine:
    author: Author
    text: str
    at: datetime | None = None
    name: str | None = None  # the teammate's or customer's name, when known


@dataclass(frozen=True)
class Thread:
    lines: tuple[ThreadLine, ...]
    contact_name: str | None = None
    today: date | None = None  # "tomorrow" and weekdays resolve against this

    def last_from_customer(self) -> ThreadLine | None:
        return next((ln for ln in reversed(self.lines) if ln.author is Author.CUSTOMER), None)


# ----- classify ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyRequest:
    text: str


@dataclass(frozen=True)
class Classification:
    """The intent of one message, or None when no intent is confident enough."""

    intent: str | None
    confidence: float
    source: Source
    evidence: tuple[str, ...] = ()  # the keywords and example phrases that matched
    language: str | None = None  # "en" | "sw" when the words tell


# ----- extract -------------------------------------------------------------------------------


class FieldKind(StrEnum):
    AMOUNT = "amount"
    QUANTITY = "quantity"
    DATE = "date"
    TIME = "time"
    PHONE = "phone"
    PLACE = "place"
    PRODUCT = "product"


@dataclass(frozen=True)
class ExtractedField:
    """One detail found in a message: what it means (`value`, normalised) and the words
    it was read from (`text`)."""

    kind: FieldKind
    value: str
    text: str
    confidence: float
    quantity: int | None = None  # for a product: how many the message asks for


@dataclass(frozen=True)
class ExtractRequest:
    text: str
    today: date | None = None


@dataclass(frozen=True)
class Extraction:
    fields: tuple[ExtractedField, ...]
    confidence: float
    source: Source

    def of(self, kind: FieldKind) -> tuple[ExtractedField, ...]:
        return tuple(f for f in self.fields if f.kind is kind)

    def first(self, kind: FieldKind) -> ExtractedField | None:
        return next((f for f in self.fields if f.kind is kind), None)


# ----- summarise -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SummariseRequest:
    thread: Thread
    max_sentences: int = 5


@dataclass(frozen=True)
class Summary:
    sentences: tuple[str, ...]
    confidence: float
    source: Source

    @property
    def text(self) -> str:
        return "\n".join(self.sentences)


# ----- draft ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """A piece of approved business information a draft used: `knowledge.yaml prices[2]`."""

    file: str  # "knowledge.yaml" | "replies.yaml"
    key: str  # "price:Samsung Galaxy A15", "delivery:Westlands", "reply:/mpesa"
    text: str  # what it says, as the draft used it


@dataclass(frozen=True)
class DraftRequest:
    thread: Thread
    agent_name: str | None = None


@dataclass(frozen=True)
class Draft:
    """Reply text for the agent to edit and send; never sent by itself."""

    text: str
    citations: tuple[Citation, ...]
    confidence: float
    source: Source
    intent: str | None = None


# ----- suggest the next action ------------------------------------------------------------


class ActionKind(StrEnum):
    MOVE_STAGE = "move_stage"  # argument: the stage
    PREPARE_ORDER = "prepare_order"  # open the pre-filled order for staff to confirm
    REPLY = "reply"  # the customer waits on us: draft an answer
    NONE = "none"


@dataclass(frozen=True)
class SuggestRequest:
    """What the suggestion reads: where the conversation stands and what the last message said.

    `moves` are the stages the pipeline allows from `stage`; `intent_stages` is ai.yaml's
    intent → stage hint."""

    stage: str | None
    moves: tuple[str, ...]
    waiting_on: str | None
    classification: Classification | None = None
    extraction: Extraction | None = None
    order_kinds: tuple[str, ...] = ()
    stage_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    action: ActionKind
    label: str  # what the one-click button says
    reason: str  # why, in words staff read
    confidence: float
    source: Source
    argument: str | None = None


class AiUnavailable(Exception):
    """The provider could not answer (down, slow, over budget, or answered nonsense)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
