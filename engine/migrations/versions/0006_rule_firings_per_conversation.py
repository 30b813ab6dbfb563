"""Rule firings name their conversation, so the loop brake counts by index.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rule_firings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_rule_firings_conversation_id_rule_name_fired_at"),
            ["conversation_id", "rule_name", "fired_at"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rule_firings_conversation_id"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("rule_firings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rule_firings_conversation_id"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_rule_firings_conversation_id_rule_name_fired_at"))
        batch_op.drop_column("conversation_id")
