"""AI's records: each model call for the usage log and budget, and the answers staff see."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped


class AiUsage(WorkspaceScoped, Base):
    """One call to a model: tokens, cost and latency, or why it failed or was not made."""

    __tablename__ = "ai_usage"
    __table_args__ = (Index(None, "workspace_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    job: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))  # ok | failed | over_budget | breaker_open
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0))
    latency_ms: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime]


class AiResult(WorkspaceScoped, Base):
    """An AI answer kept for the conversation page: a message's intent and details, or a
    summary made on handover. A suggestion only; nothing acts on it by itself."""

    __tablename__ = "ai_results"
    __table_args__ = (
        Index(None, "conversation_id", "id"),
        Index(None, "message_id", "job", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    job: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(300))
    confidence: Mapped[float]
    at: Mapped[datetime]
