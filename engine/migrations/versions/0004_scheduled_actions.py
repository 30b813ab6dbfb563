"""Scheduled actions: delayed rule blocks waiting for their time.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=200), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("trigger_event_id", sa.String(length=255), nullable=False),
        sa.Column("guard_text", sa.Text(), nullable=True),
        sa.Column("stage_at_schedule", sa.String(length=64), nullable=True),
        sa.Column("status_at_schedule", sa.String(length=32), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "running",
                "done",
                "skipped",
                "cancelled",
                "failed",
                name="scheduled_action_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"],
            ["teammates.id"],
            name=op.f("fk_scheduled_actions_cancelled_by_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_scheduled_actions_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_scheduled_actions_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scheduled_actions_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_actions")),
    )
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduled_actions_conversation_id_state"),
            ["conversation_id", "state"],
            unique=False,
        )
        batch_op.create_index("ix_scheduled_actions_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_actions_due")
        batch_op.drop_index(batch_op.f("ix_scheduled_actions_conversation_id_state"))

    op.drop_table("scheduled_actions")
