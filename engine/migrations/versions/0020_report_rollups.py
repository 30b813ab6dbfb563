"""Report rollups: tallies per day and dimension, and what each conversation contributes.

Revision ID: 0020_report_rollups
Revises: 0019_ai_usage
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_report_rollups"
down_revision: str | None = "0019_ai_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KEY = (
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


def upgrade() -> None:
    op.create_table(
        "report_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("teammate_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("clock", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_tallies_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_tallies")),
        sa.UniqueConstraint(*KEY, name="uq_report_tallies_key"),
    )
    op.create_index(
        "ix_report_tallies_workspace_id_measure_day",
        "report_tallies",
        ["workspace_id", "measure", "day"],
    )
    op.create_table(
        "report_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_marks_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_marks_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_marks")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_report_marks_conversation_id")),
    )


def downgrade() -> None:
    op.drop_table("report_marks")
    op.drop_index("ix_report_tallies_workspace_id_measure_day", table_name="report_tallies")
    op.drop_table("report_tallies")
