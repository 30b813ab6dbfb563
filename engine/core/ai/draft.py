"""The offline draft: a reply put together only from approved information, citing each piece.

It reads the customer's last message (intent and details), then quotes knowledge.yaml
(the price of each product named, the fee to each place named, the facts the intent
lists), or, when none of that applies, the intent's quick reply from replies.yaml. Each
quoted piece is a citation. With nothing approved to say, it says it will check: it never
invents a fact.
"""

from __future__ import annotations

from decimal import Decimal

from engine.core.ai.classify import classify_offline
from engine.core.ai.extract import extract_offline
from engine.core.ai.types import (
    OFFLINE,
    Author,
    Citation,
    Classification,
    Draft,
    DraftRequest,
    ExtractRequest,
    FieldKind,
    Thread,
    ThreadLine,
)
from engine.core.config import Intent, QuickReply, WorkspaceConfig

KNOWLEDGE = "knowledge.yaml"
REPLIES = "replies.yaml"

_WORDS = {
    "en": {
        "hello": "Hi {name}!",
        "hello_anonymous": "Hi!",
        "price": "The {product} is {money}{unit}.",
        "delivery": "Delivery to {place} is {money}{when}.",
        "hours": "Our hours: {hours}.",
        "check": "Thank you for your message. Let me check and get back to you shortly.",
    },
    "sw": {
        "hello": "Habari {name}!",
        "hello_anonymous": "Habari!",
        "price": "{product} ni {money}{unit}.",
        "delivery": "Kuleta hadi {place} ni {money}{when}.",
        "hours": "Saa zetu za kazi: {hours}.",
        "check": "Asante kwa ujumbe wako. Nacheki na nitakujibu hivi karibuni.",
    },
}


def draft_offline(
    config: WorkspaceConfig, request: DraftRequest, classification: Classification | None = None
) -> Draft:
    last = request.thread.last_from_customer()
    if last is None:
        return Draft("", (), 0.0, OFFLINE)
    knowledge = config.knowledge
    currency = knowledge.currency or config.currency or ""
    classification = classification or classify_offline(config.ai, last.text)
    # Details may sit in the customer's earlier lines ("the A15" then "deliver it to Thika").
    recent = " \n".join(ln.text for ln in _customer_lines_since_answer(request.thread))
    extraction = extract_offline(
        knowledge, config.currency, ExtractRequest(recent, request.thread.today)
    )
    language = "sw" if classification.language == "sw" else "en"
    words = _WORDS[language]
    first_name = (request.thread.contact_name or "").split(" ")[0]
    parts: list[str] = []
    citations: list[Citation] = []

    for field in extraction.of(FieldKind.PRODUCT):
        product = next((p for p in knowledge.products if p.name == field.value), None)
        if product is None:
            continue
        unit = f" {product.unit}" if product.unit else ""
        sentence = words["price"].format(
            product=product.name, money=_money(currency, product.price), unit=unit
        )
        parts.append(sentence)
        citations.append(Citation(KNOWLEDGE, f"price:{product.name}", sentence))
    for field in extraction.of(FieldKind.PLACE):
        area = next((a for a in knowledge.delivery if a.name == field.value), None)
        if area is None:
            continue
        when = f", {area.when}" if area.when else ""
        sentence = words["delivery"].format(
            place=area.name, money=_money(currency, area.fee), when=when
        )
        parts.append(sentence)
        citations.append(Citation(KNOWLEDGE, f"delivery:{area.name}", sentence))

    intent = config.ai.intent(classification.intent) if classification.intent else None
    if intent is not None:
        for fact in intent.facts:
            said = _fact(config, fact, words)
            if said and said not in parts:
                parts.append(said)
                citations.append(Citation(KNOWLEDGE, fact, said))
        # The intent's quick reply is the answer when the knowledge had nothing specific.
        reply = _quick_reply(config, intent, language) if not parts else None
        if reply is not None:
            text = _fill(reply.text, first_name, request.agent_name)
            parts.append(text)
            citations.append(Citation(REPLIES, f"reply:{reply.shortcut}", text))

    greeting = words["hello"].format(name=first_name) if first_name else words["hello_anonymous"]
    if not parts:
        return Draft(f"{greeting} {words['check']}", (), 0.2, OFFLINE, classification.intent)
    if parts[0].lower().startswith(("hi ", "habari ", "hello ")):
        body = " ".join(parts)
    else:
        body = f"{greeting} " + " ".join(parts)
    confidence = round(min(0.95, 0.4 + 0.15 * len(citations) + 0.2 * classification.confidence), 3)
    return Draft(body, tuple(citations), confidence, OFFLINE, classification.intent)


def _customer_lines_since_answer(thread: Thread) -> tuple[ThreadLine, ...]:
    """What the customer wrote since the business last answered, or their last three lines
    when nobody has answered yet."""
    lines = thread.lines
    answered = max((i for i, ln in enumerate(lines) if ln.author is Author.AGENT), default=-1)
    since = tuple(ln for ln in lines[answered + 1 :] if ln.author is Author.CUSTOMER)
    if answered >= 0 and since:
        earlier = tuple(ln for ln in lines[:answered] if ln.author is Author.CUSTOMER)
        return (*earlier[-1:], *since)
    return tuple(ln for ln in lines if ln.author is Author.CUSTOMER)[-3:]


def _money(currency: str, amount: Decimal) -> str:
    number = f"{amount:,.0f}" if amount == amount.to_integral() else f"{amount:,.2f}"
    return f"{currency} {number}".strip()


def _fact(config: WorkspaceConfig, fact: str, words: dict[str, str]) -> str | None:
    knowledge = config.knowledge
    if fact == "hours" and knowledge.hours:
        return words["hours"].format(hours=knowledge.hours.rstrip("."))
    if fact.startswith("policy:"):
        policy = next((p for p in knowledge.policies if p.name == fact[len("policy:") :]), None)
        return policy.text if policy else None
    return None


def _quick_reply(config: WorkspaceConfig, intent: Intent, language: str) -> QuickReply | None:
    if intent.reply is None:
        return None
    matches = [r for r in config.quick_replies if r.shortcut == intent.reply]
    return next((r for r in matches if r.language == language), matches[0] if matches else None)


def _fill(text: str, first_name: str, agent_name: str | None) -> str:
    agent_first = (agent_name or "").split(" ")[0]
    for variable, value in (
        ("contact.first_name", first_name),
        ("contact.name", first_name),
        ("agent.first_name", agent_first),
    ):
        for spelling in ("{{" + variable + "}}", "{{ " + variable + " }}"):
            text = text.replace(spelling, value)
    return text
