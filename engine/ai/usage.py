"""The usage log of model calls, and the monthly budget read from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, func, select

from connectors.openai_compat import CallRecord
from engine.core.config import AiEndpoint
from engine.db import workspace_session
from engine.models import AiUsage


def cost_of(endpoint: AiEndpoint, prompt_tokens: int, completion_tokens: int) -> Decimal:
    return (
        endpoint.input_cost_per_1k * prompt_tokens + endpoint.output_cost_per_1k * completion_tokens
    ) / 1000


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent_this_month(db: Engine, workspace_id: int, now: datetime) -> Decimal:
    with workspace_session(db, workspace_id) as session:
        total = session.scalar(
            select(func.coalesce(func.sum(AiUsage.cost), 0)).where(AiUsage.at >= month_start(now))
        )
    return Decimal(str(total or 0))


def record_call(
    db: Engine,
    workspace_id: int,
    endpoint: AiEndpoint,
    record: CallRecord,
    now: datetime,
    conversation_id: int | None,
) -> None:
    """One row per call, in its own short transaction: the log survives a failed job."""
    with workspace_session(db, workspace_id) as session:
        session.add(
            AiUsage(
                conversation_id=conversation_id,
                job=record.job.value,
                provider="openai_compat",
                model=endpoint.model,
                outcome=record.outcome,
                prompt_tokens=record.prompt_tokens,
                completion_tokens=record.completion_tokens,
                cost=cost_of(endpoint, record.prompt_tokens, record.completion_tokens),
                latency_ms=record.latency_ms,
                detail=(record.detail or "")[:500] or None,
                at=now,
            )
        )
        session.commit()


def record_skipped(
    db: Engine,
    workspace_id: int,
    endpoint: AiEndpoint,
    job: str,
    reason: str,
    now: datetime,
    conversation_id: int | None,
) -> None:
    with workspace_session(db, workspace_id) as session:
        session.add(
            AiUsage(
                conversation_id=conversation_id,
                job=job,
                provider="openai_compat",
                model=endpoint.model,
                outcome="over_budget",
                detail=reason[:500],
                at=now,
            )
        )
        session.commit()
