"""SLA clocks: one running deadline per conversation and kind.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "first_response",
                "next_response",
                "resolution",
                name="sla_clock_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_clocks_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sla_clocks_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_due", ["stopped_at", "due_at"], unique=False)
        batch_op.create_index("ix_sla_clocks_warn", ["stopped_at", "warn_at"], unique=False)
        batch_op.create_index(
            "uq_sla_clocks_one_running",
            ["workspace_id", "conversation_id", "kind"],
            unique=True,
            sqlite_where=sa.text("stopped_at IS NULL"),
            postgresql_where=sa.text("stopped_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sla_clocks_one_running",
            sqlite_where=sa.text("stopped_at IS NULL"),
            postgresql_where=sa.text("stopped_at IS NULL"),
        )
        batch_op.drop_index("ix_sla_clocks_warn")
        batch_op.drop_index("ix_sla_clocks_due")

    op.drop_table("sla_clocks")
