"""The offline classifier: ai.yaml's keywords and example phrases, scored, deterministic.

A keyword that appears counts one point; the example phrase sharing the most words
with the message counts up to two (the share of its words found). The best-scoring
intent wins, ties going to the intent declared first; its confidence is
score / (score + 1), so one keyword alone gives 0.5 and a full example 0.67.
"""

from __future__ import annotations

from engine.core.ai.text import content_tokens, find_phrase, language_of, tokens
from engine.core.ai.types import OFFLINE, Classification
from engine.core.config import AiConfig, Intent

EXAMPLE_WEIGHT = 2.0


def classify_offline(config: AiConfig, text: str) -> Classification:
    words = tokens(text)
    content = frozenset(content_tokens(text))
    language = language_of(words)
    best: tuple[float, Intent, tuple[str, ...]] | None = None
    for intent in config.intents:
        score, evidence = _score(intent, words, content)
        if score > 0 and (best is None or score > best[0]):
            best = (score, intent, evidence)
    if best is None:
        return Classification(None, 0.0, OFFLINE, (), language)
    score, intent, evidence = best
    confidence = round(score / (score + 1.0), 3)
    if confidence < config.min_confidence:
        return Classification(None, confidence, OFFLINE, evidence, language)
    return Classification(intent.name, confidence, OFFLINE, evidence, language)


def _score(
    intent: Intent, words: tuple[str, ...], content: frozenset[str]
) -> tuple[float, tuple[str, ...]]:
    score = 0.0
    evidence: list[str] = []
    for keyword in intent.keywords:
        if find_phrase(words, tokens(keyword), prefix=True) >= 0:
            score += 1.0
            evidence.append(keyword)
    best_share, best_example = 0.0, None
    for example in intent.examples:
        example_words = frozenset(content_tokens(example))
        if not example_words:
            continue
        share = len(example_words & content) / len(example_words)
        if share > best_share:
            best_share, best_example = share, example
    if best_example is not None and best_share >= 0.34:
        score += EXAMPLE_WEIGHT * best_share
        evidence.append(f'like "{best_example}"')
    return score, tuple(evidence)
