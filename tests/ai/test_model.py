"""The OpenAI-compatible provider against the simulator: answers, checks, masking, retries,
the breaker, the budget and the usage log, and the offline answer whenever the model fails."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, select

from connectors.openai_compat import BreakerState, ChatClient, CircuitBreaker
from connectors.openai_compat.simulator import AiSimulator
from engine.ai.assistant import AiScope, Assistant
from engine.ai.breakers import BreakerRegistry
from engine.core.ai import (
    Author,
    ClassifyRequest,
    DraftRequest,
    ExtractRequest,
    FieldKind,
    SummariseRequest,
    Thread,
    ThreadLine,
)
from engine.core.config import AiConfig, AiEndpoint, AiMasking, WorkspaceConfig
from engine.db import workspace_session
from engine.models import AiUsage
from tests.ai.samples import sample_config

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def with_model(url: str, **changes: object) -> WorkspaceConfig:
    config = sample_config()
    endpoint = AiEndpoint(
        url,
        "kazi-sim",
        timeout_seconds=1.0,
        retries=1,
        breaker_failures=2,
        input_cost_per_1k=Decimal("1"),
        output_cost_per_1k=Decimal("2"),
    )
    ai = replace(config.ai, provider="openai_compat", endpoint=endpoint, **changes)  # type: ignore[arg-type]
    return replace(config, ai=ai)


def usage(db: Engine, workspace_id: int) -> list[AiUsage]:
    with workspace_session(db, workspace_id) as session:
        return list(session.scalars(select(AiUsage).order_by(AiUsage.id)))


def test_the_model_answers_and_each_call_is_logged_with_cost(
    simulator: AiSimulator, db: Engine, workspace_id: int
) -> None:
    assistant = Assistant(
        with_model(simulator.url), AiScope(db, workspace_id, NOW), breakers=BreakerRegistry()
    )
    found = assistant.classify(ClassifyRequest("how much is the samsung tv"))
    assert (found.intent, found.source.label()) == ("price", "model kazi-sim")
    extraction = assistant.extract(ExtractRequest("deliver to westlands please"))
    assert [(f.kind, f.value) for f in extraction.fields] == [(FieldKind.PLACE, "Westlands")]
    rows = usage(db, workspace_id)
    assert [(r.job, r.outcome) for r in rows] == [("classify", "ok"), ("extract", "ok")]
    assert rows[0].prompt_tokens > 0 and rows[0].cost > 0 and rows[0].latency_ms >= 0


def test_a_draft_cites_only_facts_it_was_offered(
    simulator: AiSimulator, db: Engine, workspace_id: int
) -> None:
    assistant = Assistant(
        with_model(simulator.url), AiScope(db, workspace_id, NOW), breakers=BreakerRegistry()
    )
    thread = Thread((ThreadLine(Author.CUSTOMER, "price of a15?"),), "Akinyi Otieno")
    draft = assistant.draft(DraftRequest(thread))
    assert draft.source.model == "kazi-sim"
    assert [c.key for c in draft.citations] == ["price:Samsung Galaxy A15"]
    assert "KES 18,500" in draft.text


def test_numbers_and_names_are_masked_before_they_leave(db: Engine, workspace_id: int) -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        content = json.dumps({"sentences": ["[NAME1] wants it at [N1]"]})
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    assistant = Assistant(
        with_model("http://model.test/v1"),
        AiScope(db, workspace_id, NOW),
        breakers=BreakerRegistry(),
        transport=httpx.MockTransport(handler),
    )
    thread = Thread(
        (ThreadLine(Author.CUSTOMER, "Akinyi here, call me on 0712345678 about KES 18,500"),),
        "Akinyi Otieno",
    )
    summary = assistant.summarise(SummariseRequest(thread))
    sent = json.dumps(seen[0])
    assert "0712345678" not in sent and "18,500" not in sent and "Akinyi" not in sent
    assert "[N1]" in sent and "[NAME" in sent
    assert summary.sentences == ("Akinyi wants it at 0712345678",)


def test_masking_can_be_switched_off(db: Engine, workspace_id: int) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content.decode())
        content = json.dumps({"intent": None, "confidence": 0.1})
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    config = with_model("http://model.test/v1", masking=AiMasking(numbers=False, names=False))
    assistant = Assistant(
        config,
        AiScope(db, workspace_id, NOW),
        breakers=BreakerRegistry(),
        transport=httpx.MockTransport(handler),
    )
    assistant.classify(ClassifyRequest("call 0712345678"))
    assert "0712345678" in seen[0]


@pytest.mark.parametrize("fault", ["500", "garbage"])
def test_a_failing_model_gives_the_offline_answer_and_says_why(
    simulator: AiSimulator, db: Engine, workspace_id: int, fault: str
) -> None:
    simulator.set_fault(fault)
    assistant = Assistant(
        with_model(simulator.url), AiScope(db, workspace_id, NOW), breakers=BreakerRegistry()
    )
    found = assistant.classify(ClassifyRequest("bei ya hisense tv ni ngapi"))
    assert found.intent == "price" and found.source.provider == "offline"
    assert found.source.fallback_reason
    assert "model unavailable" in found.source.label()
    assert [r.outcome for r in usage(db, workspace_id)] == ["failed"]


def test_a_slow_model_times_out_and_the_breaker_stops_further_calls(
    simulator: AiSimulator, db: Engine, workspace_id: int
) -> None:
    simulator.set_fault("slow", delay=3)
    config = with_model(simulator.url)
    config = replace(
        config,
        ai=replace(config.ai, endpoint=replace(config.ai.endpoint, timeout_seconds=0.3, retries=0)),  # type: ignore[type-var]
    )
    breakers = BreakerRegistry()
    scope = AiScope(db, workspace_id, NOW)
    for _ in range(2):
        answer = Assistant(config, scope, breakers=breakers).classify(ClassifyRequest("price?"))
        assert "no answer within 0.3s" in (answer.source.fallback_reason or "")
    before = simulator.state.requests
    answer = Assistant(config, scope, breakers=breakers).classify(ClassifyRequest("price?"))
    assert simulator.state.requests == before  # not called: the breaker is open
    assert "circuit breaker open" in (answer.source.fallback_reason or "")
    assert answer.intent == "price"
    assert [r.outcome for r in usage(db, workspace_id)] == ["failed", "failed", "breaker_open"]


def test_retries_within_the_budget_then_succeeds() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json=_chat({"intent": None}))])
    client = ChatClient(
        "http://model.test/v1",
        "m",
        "key",
        1.0,
        retries=1,
        transport=httpx.MockTransport(lambda request: next(answers)),
        sleep=lambda seconds: None,
    )
    from connectors.openai_compat import ChatMessage

    answer = client.complete([ChatMessage("user", "hi")], json_answer=True)
    assert answer.attempts == 2


def test_a_spent_budget_skips_the_model(
    simulator: AiSimulator, db: Engine, workspace_id: int
) -> None:
    config = with_model(simulator.url, monthly_budget=Decimal("0.000001"))
    breakers = BreakerRegistry()
    scope = AiScope(db, workspace_id, NOW)
    first = Assistant(config, scope, breakers=breakers).classify(ClassifyRequest("price?"))
    assert first.source.model == "kazi-sim"
    calls = simulator.state.requests
    second = Assistant(config, scope, breakers=breakers).classify(ClassifyRequest("price?"))
    assert simulator.state.requests == calls
    assert "budget" in (second.source.fallback_reason or "")
    next_month = AiScope(db, workspace_id, datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    third = Assistant(config, next_month, breakers=breakers).classify(ClassifyRequest("price?"))
    assert third.source.model == "kazi-sim"


def test_breaker_half_opens_after_the_cooldown_and_closes_on_success() -> None:
    breaker = CircuitBreaker(failures=2, cooldown_seconds=10)
    breaker.failed(0)
    assert breaker.allow(1)
    breaker.failed(1)
    assert breaker.state(5) is BreakerState.OPEN and not breaker.allow(5)
    assert breaker.allow(12) and not breaker.allow(12)  # one trial call only
    breaker.succeeded()
    assert breaker.state(12) is BreakerState.CLOSED


def test_an_offline_workspace_never_calls_anything(db: Engine, workspace_id: int) -> None:
    assistant = Assistant(sample_config(), AiScope(db, workspace_id, NOW))
    assert not assistant.uses_model and sample_config().ai.provider == AiConfig().provider
    assert assistant.classify(ClassifyRequest("bei?")).source.label() == "offline"
    assert usage(db, workspace_id) == []


def _chat(document: dict[str, object]) -> dict[str, object]:
    return {"choices": [{"message": {"content": json.dumps(document)}}]}
