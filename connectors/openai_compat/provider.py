"""The AI port over an OpenAI-compatible chat-completions server.

Each job is one call with a JSON answer, checked before it is believed: an intent must
be one ai.yaml declares, a product one the catalogue lists, a citation a key of the
approved facts offered, a suggestion one of the candidates offered. Anything else is
AiUnavailable, and the engine answers with the offline provider instead. Text leaves
masked as ai.yaml says (numbers, names) and answers are unmasked here, on this machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.openai_compat.breaker import CircuitBreaker
from connectors.openai_compat.client import ChatClient, ChatFailed, ChatMessage, parse_json_object
from engine.core.ai import (
    ActionKind,
    AiUnavailable,
    Citation,
    Classification,
    ClassifyRequest,
    Draft,
    DraftRequest,
    ExtractedField,
    Extraction,
    ExtractRequest,
    FieldKind,
    Job,
    Mask,
    Source,
    Suggestion,
    SuggestRequest,
    SummariseRequest,
    Summary,
    Thread,
)
from engine.core.ai.draft import REPLIES
from engine.core.config import WorkspaceConfig

SYSTEM = (
    "You help the staff of a small business answer its customers on WhatsApp. "
    "Staff read and edit everything you write before anything is sent. "
    "Placeholders such as [N1] or [NAME1] stand for hidden values: keep them as they are. "
    "Answer with one JSON object and nothing else. job: {job}. {task}"
)

TASKS = {
    Job.CLASSIFY: 'Pick the intent of "message" from "intents", or null if none fits. '
    'Answer {"intent": <name or null>, "confidence": <0 to 1>}.',
    Job.EXTRACT: 'List the details in "message": amounts, quantities, dates, times, phone '
    'numbers, places from "places" and products from "products". Answer {"fields": '
    '[{"kind": <one of "kinds">, "value": <normalised>, "text": <as written>}]}.',
    Job.SUMMARISE: 'Summarise "thread" for the teammate taking it over, in at most '
    '"max_sentences" short sentences. Answer {"sentences": [<text>, ...]}.',
    Job.DRAFT: "Write the business's next reply in \"thread\", in the customer's language, "
    'stating only facts from "facts". Answer {"text": <reply>, "cited": [<keys of the '
    "facts used>]}.",
    Job.SUGGEST: 'Pick the best next step for staff from "candidates". Answer {"choice": '
    '<index>, "confidence": <0 to 1>, "reason": <short>}.',
}


@dataclass(frozen=True)
class CallRecord:
    """One call as the usage log keeps it."""

    job: Job
    outcome: str  # "ok" | "failed" | "breaker_open"
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    detail: str | None = None


class OpenAICompatProvider:
    def __init__(
        self,
        config: WorkspaceConfig,
        client: ChatClient,
        breaker: CircuitBreaker,
        *,
        on_call: Callable[[CallRecord], None] = lambda record: None,
        names: tuple[str, ...] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.client = client
        self.breaker = breaker
        self.on_call = on_call
        self.names = names  # teammates' names, masked as well as the customer's
        self.monotonic = monotonic
        self.source = Source("openai_compat", client.model)

    # ----- the five jobs ---------------------------------------------------------------------

    def classify(self, request: ClassifyRequest) -> Classification:
        mask = self._mask(())
        intents = [
            {"name": i.name, "label": i.label, "examples": list(i.examples[:4])}
            for i in self.config.ai.intents
        ]
        answer = self._ask(Job.CLASSIFY, {"message": mask.apply(request.text), "intents": intents})
        name = answer.get("intent")
        if name is not None and self.config.ai.intent(str(name)) is None:
            raise AiUnavailable(f"the model named an intent ai.yaml does not have: {name!r}")
        confidence = _confidence(answer.get("confidence"))
        if name is not None and confidence < self.config.ai.min_confidence:
            name = None
        return Classification(name, confidence, self.source, ("model",))

    def extract(self, request: ExtractRequest) -> Extraction:
        mask = self._mask(())
        knowledge = self.config.knowledge
        products = {p.name: p for p in knowledge.products}
        places = {a.name: a for a in knowledge.delivery}
        answer = self._ask(
            Job.EXTRACT,
            {
                "message": mask.apply(request.text),
                "kinds": [k.value for k in FieldKind],
                "products": list(products),
                "places": list(places),
                "today": request.today.isoformat() if request.today else None,
            },
        )
        raw = answer.get("fields")
        if not isinstance(raw, list):
            raise AiUnavailable("the model's answer has no list of fields")
        fields: list[ExtractedField] = []
        for item in raw:
            if not isinstance(item, dict) or item.get("kind") not in FieldKind.__members__.values():
                continue
            kind = FieldKind(item["kind"])
            value = mask.restore(str(item.get("value", "")))
            if kind is FieldKind.PRODUCT and value not in products:
                continue  # only what this business sells
            if kind is FieldKind.PLACE and value not in places:
                continue
            fields.append(
                ExtractedField(kind, value, mask.restore(str(item.get("text", value))), 0.8)
            )
        return Extraction(tuple(fields), 0.8 if fields else 0.0, self.source)

    def summarise(self, request: SummariseRequest) -> Summary:
        mask = self._mask(_thread_names(request.thread))
        answer = self._ask(
            Job.SUMMARISE,
            {"thread": _lines(request.thread, mask), "max_sentences": request.max_sentences},
        )
        sentences = answer.get("sentences")
        if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
            raise AiUnavailable("the model's summary is not a list of sentences")
        kept = tuple(mask.restore(s) for s in sentences[: request.max_sentences])
        return Summary(kept, 0.8 if kept else 0.0, self.source)

    def draft(self, request: DraftRequest) -> Draft:
        mask = self._mask(_thread_names(request.thread))
        facts = approved_facts(self.config)
        answer = self._ask(
            Job.DRAFT,
            {
                "thread": _lines(request.thread, mask),
                "facts": [{"key": key, "text": text} for key, (_, text) in facts.items()],
            },
        )
        text, cited = answer.get("text"), answer.get("cited", [])
        if not isinstance(text, str) or not text.strip() or not isinstance(cited, list):
            raise AiUnavailable("the model's draft has no text")
        citations = tuple(
            Citation(facts[key][0], key, facts[key][1]) for key in cited if key in facts
        )
        confidence = 0.8 if citations else 0.4
        return Draft(mask.restore(text.strip()), citations, confidence, self.source)

    def suggest(self, request: SuggestRequest) -> Suggestion:
        candidates = _candidates(request)
        answer = self._ask(
            Job.SUGGEST,
            {
                "stage": request.stage,
                "waiting_on": request.waiting_on,
                "intent": request.classification.intent if request.classification else None,
                "candidates": [c[1] for c in candidates],
            },
        )
        choice = answer.get("choice")
        if not isinstance(choice, int) or not 0 <= choice < len(candidates):
            raise AiUnavailable("the model picked no offered candidate")
        action, label, argument = candidates[choice]
        reason = str(answer.get("reason") or "the model's choice")[:200]
        return Suggestion(
            action, label, reason, _confidence(answer.get("confidence")), self.source, argument
        )

    # ----- one call --------------------------------------------------------------------------

    def _mask(self, names: tuple[str, ...]) -> Mask:
        masking = self.config.ai.masking
        return Mask(masking.numbers, (*names, *self.names) if masking.names else ())

    def _ask(self, job: Job, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.breaker.allow(self.monotonic()):
            reason = "calls are paused after repeated failures (circuit breaker open)"
            self.on_call(CallRecord(job, "breaker_open", 0, 0, 0, reason))
            raise AiUnavailable(reason)
        messages = (
            ChatMessage("system", SYSTEM.format(job=job.value, task=TASKS[job])),
            ChatMessage("user", json.dumps(payload, ensure_ascii=False)),
        )
        try:
            answer = self.client.complete(messages, json_answer=True)
        except ChatFailed as failure:
            self.breaker.failed(self.monotonic())
            self.on_call(CallRecord(job, "failed", 0, 0, failure.latency_ms, failure.reason))
            raise AiUnavailable(failure.reason) from None
        try:
            document = parse_json_object(answer.text)
        except ValueError:
            self.breaker.failed(self.monotonic())
            self.on_call(
                CallRecord(
                    job,
                    "failed",
                    answer.prompt_tokens,
                    answer.completion_tokens,
                    answer.latency_ms,
                    "the answer is not JSON",
                )
            )
            raise AiUnavailable("the model's answer is not JSON") from None
        self.breaker.succeeded()
        self.on_call(
            CallRecord(job, "ok", answer.prompt_tokens, answer.completion_tokens, answer.latency_ms)
        )
        return document


def approved_facts(config: WorkspaceConfig) -> dict[str, tuple[str, str]]:
    """Every fact a draft may state, by citation key: (file, text)."""
    knowledge = config.knowledge
    currency = knowledge.currency or config.currency or ""
    facts: dict[str, tuple[str, str]] = {}
    for product in knowledge.products:
        unit = f" {product.unit}" if product.unit else ""
        facts[f"price:{product.name}"] = (
            "knowledge.yaml",
            f"{product.name}: {currency} {product.price:,}{unit}",
        )
    for area in knowledge.delivery:
        when = f", {area.when}" if area.when else ""
        facts[f"delivery:{area.name}"] = (
            "knowledge.yaml",
            f"delivery to {area.name}: {currency} {area.fee:,}{when}",
        )
    if knowledge.hours:
        facts["hours"] = ("knowledge.yaml", knowledge.hours)
    for policy in knowledge.policies:
        facts[f"policy:{policy.name}"] = ("knowledge.yaml", policy.text)
    for reply in config.quick_replies:
        key = f"reply:{reply.shortcut}" + (f":{reply.language}" if reply.language else "")
        facts[key] = (REPLIES, reply.text)
    return facts


def _candidates(request: SuggestRequest) -> list[tuple[ActionKind, str, str | None]]:
    found: list[tuple[ActionKind, str, str | None]] = [
        (ActionKind.MOVE_STAGE, f"Move to {request.stage_labels.get(s, s)}", s)
        for s in request.moves
    ]
    if "order" in request.order_kinds:
        found.append((ActionKind.PREPARE_ORDER, "Prepare the order", None))
    found.append((ActionKind.REPLY, "Draft a reply", None))
    found.append((ActionKind.NONE, "Nothing to do now", None))
    return found


def _thread_names(thread: Thread) -> tuple[str, ...]:
    names = [thread.contact_name or ""]
    names += [ln.name or "" for ln in thread.lines]
    parts = [p for n in names for p in (n, *n.split(" ")) if p]
    return tuple(dict.fromkeys(parts))


def _lines(thread: Thread, mask: Mask) -> list[dict[str, str]]:
    return [{"who": ln.author.value, "text": mask.apply(ln.text)} for ln in thread.lines[-40:]]


def _confidence(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.5
    return round(min(1.0, max(0.0, number)), 3)
