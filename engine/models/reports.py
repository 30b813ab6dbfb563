"""Rollups for the reports page: counts and duration histograms per day and dimension.

Kept up to date by engine.reports.rollups as the engine writes; `recount` rebuilds the
same rows from the record, and a test proves the two agree.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped

# The dimensions a tally is kept per; "none" is 0 or "" (not NULL) so the unique key holds.
TALLY_KEY = (
    "workspace_id",
    "day",
    "measure",
    "teammate_id",
    "team_id",
    "number",
    "pipeline",
    "stage",
    "policy",
    "clock",
    "slot",
)


class ReportTally(WorkspaceScoped, Base):
    """How many facts of one measure, and their total seconds, on one local day.

    `slot` is the duration histogram bin (durations) or the hour of the week (messages).
    """

    __tablename__ = "report_tallies"
    __table_args__ = (
        UniqueConstraint(*TALLY_KEY, name="uq_report_tallies_key"),
        Index("ix_report_tallies_workspace_id_measure_day", "workspace_id", "measure", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    measure: Mapped[str] = mapped_column(String(32))
    teammate_id: Mapped[int] = mapped_column(Integer, default=0)  # 0: nobody
    team_id: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str] = mapped_column(String(32), default="")
    pipeline: Mapped[str] = mapped_column(String(64), default="")
    stage: Mapped[str] = mapped_column(String(64), default="")
    policy: Mapped[str] = mapped_column(String(100), default="")
    clock: Mapped[str] = mapped_column(String(32), default="")
    slot: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # seconds


class ReportMark(WorkspaceScoped, Base):
    """What one conversation contributes to the tallies now, so a change moves exactly
    the difference (whoever made it: the engine, staff, a migration)."""

    __tablename__ = "report_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
