"""The offline provider: the default, with no network and the same answer every time."""

from __future__ import annotations

from engine.core.ai.classify import classify_offline
from engine.core.ai.draft import draft_offline
from engine.core.ai.extract import extract_offline
from engine.core.ai.suggest import suggest_offline
from engine.core.ai.summarise import summarise_offline
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
from engine.core.config import WorkspaceConfig


class OfflineProvider:
    """Keywords and examples from ai.yaml, the catalogue and policies from knowledge.yaml,
    replies from replies.yaml, stages from pipelines.yaml."""

    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config

    def classify(self, request: ClassifyRequest) -> Classification:
        return classify_offline(self.config.ai, request.text)

    def extract(self, request: ExtractRequest) -> Extraction:
        return extract_offline(self.config.knowledge, self.config.currency, request)

    def summarise(self, request: SummariseRequest) -> Summary:
        return summarise_offline(self.config.knowledge, self.config.currency, request)

    def draft(self, request: DraftRequest) -> Draft:
        return draft_offline(self.config, request)

    def suggest(self, request: SuggestRequest) -> Suggestion:
        return suggest_offline(self.config.ai, request)
