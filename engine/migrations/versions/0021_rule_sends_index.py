"""The reports' automation section finds rule-sent messages through a partial index,
not a scan of every message.

Revision ID: 0021_rule_sends_index
Revises: 0020_report_rollups
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_rule_sends_index"
down_revision: str | None = "0020_report_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept identical to engine.models.conversations.RULE_SEND_SQL (a migration never
# imports the models: they move on, the migration must not).
RULE_SEND_SQL = "author_kind = 'rule'"


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_rule_sends",
            ["workspace_id", "provider_timestamp"],
            unique=False,
            postgresql_where=sa.text(RULE_SEND_SQL),
            sqlite_where=sa.text(RULE_SEND_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_rule_sends")
