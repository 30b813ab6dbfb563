"""The failures page finds failed sends through a partial index, not a scan of every message.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept identical to engine.models.conversations.FAILED_SEND_SQL (a migration never
# imports the models: they move on, the migration must not).
FAILED_SEND_SQL = (
    "direction = 'outbound' AND (delivery_state = 'failed' OR failure_code = 'unknown')"
)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_failed_sends",
            ["workspace_id", "id"],
            unique=False,
            postgresql_where=sa.text(FAILED_SEND_SQL),
            sqlite_where=sa.text(FAILED_SEND_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_failed_sends")
