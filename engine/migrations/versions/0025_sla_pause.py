"""SLA clocks that pause: waiting on the customer and snoozing, as each policy says.

Revision ID: 0025_sla_pause
Revises: 0024_broadcasts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_sla_pause"
down_revision: str | None = "0024_broadcasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sla_clocks") as batch:
        batch.add_column(
            sa.Column("paused_seconds", sa.Float(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks") as batch:
        batch.drop_column("paused_until")
        batch.drop_column("paused_at")
        batch.drop_column("paused_seconds")
