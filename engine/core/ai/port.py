"""The AI port: five jobs. Adapters: the offline provider (engine.core.ai.offline), the
OpenAI-compatible HTTP provider (connectors.openai_compat), and the engine's wrapper that
falls back to the offline one when a model cannot answer."""

from __future__ import annotations

from typing import Protocol

from engine.core.ai.types import (
    Classification,
    ClassifyRequest,
    Draft,
    DraftRequest,
    Extraction,
    ExtractRequest,
    Suggestion,
    SuggestRequest,
    SummariseRequest,
    Summary,
)


class AiProvider(Protocol):
    """Each job answers or raises AiUnavailable; none sends or writes anything."""

    def classify(self, request: ClassifyRequest) -> Classification: ...

    def extract(self, request: ExtractRequest) -> Extraction: ...

    def summarise(self, request: SummariseRequest) -> Summary: ...

    def draft(self, request: DraftRequest) -> Draft: ...

    def suggest(self, request: SuggestRequest) -> Suggestion: ...
