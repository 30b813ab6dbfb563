"""Order lines, links between business objects, escalations with a named decision-maker.

Revision ID: 0022_orders
Revises: 0021_rule_sends_index
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022_orders"
down_revision: str | None = "0021_rule_sends_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def _workspace(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"], ["workspaces.id"], name=f"fk_{table}_workspace_id", ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("business_objects") as batch:
        batch.add_column(sa.Column("line_items", JSON, nullable=False, server_default="[]"))
    op.create_table(
        "business_object_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_object_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_object_id"],
            ["business_objects.id"],
            name="fk_business_object_relations_business_object_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["business_objects.id"],
            name="fk_business_object_relations_related_id",
            ondelete="CASCADE",
        ),
        _workspace("business_object_relations"),
        sa.PrimaryKeyConstraint("id", name="pk_business_object_relations"),
        sa.UniqueConstraint(
            "business_object_id",
            "related_id",
            name="uq_business_object_relations_business_object_id_related_id",
        ),
    )
    op.create_index(
        "ix_business_object_relations_related_id", "business_object_relations", ["related_id"]
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("decider_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_by_rule", sa.String(length=200), nullable=True),
        sa.Column("asked_at", WHEN, nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_escalations_conversation_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decider_id"], ["teammates.id"], name="fk_escalations_decider_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["teammates.id"],
            name="fk_escalations_asked_by_id",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["teammates.id"],
            name="fk_escalations_decided_by_id",
            ondelete="SET NULL",
        ),
        _workspace("escalations"),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
    )
    op.create_index("ix_escalations_conversation_id", "escalations", ["conversation_id"])
    op.create_index(
        "ix_escalations_workspace_id_decided_at", "escalations", ["workspace_id", "decided_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_escalations_workspace_id_decided_at", table_name="escalations")
    op.drop_index("ix_escalations_conversation_id", table_name="escalations")
    op.drop_table("escalations")
    op.drop_index("ix_business_object_relations_related_id", table_name="business_object_relations")
    op.drop_table("business_object_relations")
    with op.batch_alter_table("business_objects") as batch:
        batch.drop_column("line_items")
