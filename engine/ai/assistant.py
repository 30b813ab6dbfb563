"""The AI port as the engine uses it: the configured model first, the offline provider always
behind it (DESIGN rule 10: every AI call has a timeout and a deterministic fallback).

A model is skipped, and the offline provider answers, when the monthly budget is spent,
when the circuit breaker is open, or when the call fails or answers nonsense; the answer
then says so in its source ("model unavailable: ..."). Every model call is logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import httpx
from sqlalchemy import Engine

from connectors.openai_compat import CallRecord, ChatClient, OpenAICompatProvider
from engine.ai.breakers import PROCESS_BREAKERS, BreakerRegistry
from engine.ai.usage import record_call, record_skipped, spent_this_month
from engine.core.ai import (
    AiProvider,
    AiUnavailable,
    Classification,
    ClassifyRequest,
    Draft,
    DraftRequest,
    Extraction,
    ExtractRequest,
    Job,
    OfflineProvider,
    Source,
    Suggestion,
    SuggestRequest,
    SummariseRequest,
    Summary,
)
from engine.core.config import WorkspaceConfig

Answer = TypeVar("Answer", Classification, Extraction, Summary, Draft, Suggestion)


@dataclass(frozen=True)
class AiScope:
    """Where the answers go: the workspace (its budget and log) and the conversation."""

    db: Engine
    workspace_id: int
    now: datetime
    conversation_id: int | None = None


class Assistant:
    def __init__(
        self,
        config: WorkspaceConfig,
        scope: AiScope,
        *,
        env: Mapping[str, str] | None = None,
        breakers: BreakerRegistry = PROCESS_BREAKERS,
        transport: httpx.BaseTransport | None = None,
        names: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.scope = scope
        self.offline = OfflineProvider(config)
        self.model: AiProvider | None = None
        endpoint = config.ai.endpoint
        if config.ai.provider == "openai_compat" and endpoint is not None:
            environment = os.environ if env is None else env
            key = environment.get(endpoint.key_variable) if endpoint.key_variable else None
            client = ChatClient(
                endpoint.base_url,
                endpoint.model,
                key,
                endpoint.timeout_seconds,
                endpoint.retries,
                transport=transport,
            )
            self.model = OpenAICompatProvider(
                config,
                client,
                breakers.for_endpoint(scope.workspace_id, endpoint),
                on_call=self._log,
                names=names or tuple(t.name for t in config.teammates),
            )

    @property
    def uses_model(self) -> bool:
        return self.model is not None

    def classify(self, request: ClassifyRequest) -> Classification:
        return self._ask(Job.CLASSIFY, lambda p: p.classify(request))

    def extract(self, request: ExtractRequest) -> Extraction:
        return self._ask(Job.EXTRACT, lambda p: p.extract(request))

    def summarise(self, request: SummariseRequest) -> Summary:
        return self._ask(Job.SUMMARISE, lambda p: p.summarise(request))

    def draft(self, request: DraftRequest) -> Draft:
        return self._ask(Job.DRAFT, lambda p: p.draft(request))

    def suggest(self, request: SuggestRequest) -> Suggestion:
        return self._ask(Job.SUGGEST, lambda p: p.suggest(request))

    def _ask(self, job: Job, call: Callable[[AiProvider], Answer]) -> Answer:
        if self.model is None:
            return call(self.offline)
        reason = self._over_budget(job)
        if reason is None:
            try:
                return call(self.model)
            except AiUnavailable as unavailable:
                reason = unavailable.reason
        answer = call(self.offline)
        return replace(answer, source=Source("offline", fallback_reason=reason))

    def _over_budget(self, job: Job) -> str | None:
        budget = self.config.ai.monthly_budget
        endpoint = self.config.ai.endpoint
        if budget is None or endpoint is None:
            return None
        spent = spent_this_month(self.scope.db, self.scope.workspace_id, self.scope.now)
        if spent < budget:
            return None
        reason = f"this month's budget of {budget} {self.config.ai.budget_currency} is spent"
        record_skipped(
            self.scope.db,
            self.scope.workspace_id,
            endpoint,
            job.value,
            reason,
            self.scope.now,
            self.scope.conversation_id,
        )
        return reason

    def _log(self, record: CallRecord) -> None:
        endpoint = self.config.ai.endpoint
        if endpoint is not None:
            record_call(
                self.scope.db,
                self.scope.workspace_id,
                endpoint,
                record,
                self.scope.now,
                self.scope.conversation_id,
            )
