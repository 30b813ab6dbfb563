"""The offline summary: the thread's own sentences that carry the most, in their order.

A sentence scores for each kind of detail it holds (product, amount, date, place...),
for opening the customer's request and for being where things stand now. The best
few are kept in the order they were written, each with who said it. Extractive, so it
can only say what the thread says.
"""

from __future__ import annotations

from datetime import date

from engine.core.ai.extract import extract_offline
from engine.core.ai.text import sentences
from engine.core.ai.types import (
    OFFLINE,
    Author,
    ExtractedField,
    ExtractRequest,
    SummariseRequest,
    Summary,
)
from engine.core.config import Knowledge


def summarise_offline(
    knowledge: Knowledge, currency: str | None, request: SummariseRequest
) -> Summary:
    candidates: list[tuple[float, int, str]] = []  # (score, position, rendered)
    thread = request.thread
    first_customer = True
    last_customer_index = max(
        (i for i, ln in enumerate(thread.lines) if ln.author is Author.CUSTOMER), default=-1
    )
    position = 0
    for index, line in enumerate(thread.lines):
        speaker = _speaker(line.author, line.name)
        for sentence in sentences(line.text):
            kinds = {f.kind for f in _details(knowledge, currency, sentence, thread.today)}
            score = 2.0 * len(kinds)
            if line.author is Author.CUSTOMER and first_customer:
                score += 3.0
                first_customer = False
            if index == last_customer_index:
                score += 2.0
            if len(sentence.split()) < 3 and not kinds:
                continue  # "ok", "thanks", "sawa"
            if score > 0:
                candidates.append((score, position, f"{speaker}: {sentence}"))
            position += 1
    if not candidates:
        return Summary((), 0.0, OFFLINE)
    kept = sorted(candidates, key=lambda c: (-c[0], c[1]))[: request.max_sentences]
    total = sum(c[0] for c in candidates)
    confidence = round(sum(c[0] for c in kept) / total, 3)
    return Summary(tuple(c[2] for c in sorted(kept, key=lambda c: c[1])), confidence, OFFLINE)


def _speaker(author: Author, name: str | None) -> str:
    if author is Author.CUSTOMER:
        return "Customer"
    if author is Author.RULE:
        return "Automatic"
    return name or "Agent"


def _details(
    knowledge: Knowledge, currency: str | None, text: str, today: date | None
) -> tuple[ExtractedField, ...]:
    return extract_offline(knowledge, currency, ExtractRequest(text, today)).fields
