"""Rule traces per evaluated event; team tasks, held messages; delays about an object.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_traces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_kind", sa.String(length=64), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=True),
        sa.Column("caused_by", sa.String(length=200), nullable=True),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_rule_traces_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_rule_traces_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_rule_traces_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_traces")),
    )
    with op.batch_alter_table("rule_traces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rule_traces_conversation_id_id"), ["conversation_id", "id"], unique=False
        )
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_object_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_scheduled_actions_business_object_id"),
            "business_objects",
            ["business_object_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_send", JSON, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_team_id"), "teams", ["team_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_scheduled_actions_business_object_id"), type_="foreignkey"
        )
        batch_op.drop_column("business_object_id")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tasks_team_id"), type_="foreignkey")
        batch_op.drop_column("held_send")
        batch_op.drop_column("team_id")
    with op.batch_alter_table("rule_traces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_traces_conversation_id_id"))
    op.drop_table("rule_traces")
