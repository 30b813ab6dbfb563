"""Teammates set themselves away: routing passes them over, in every process alike.

Revision ID: 0023_availability
Revises: 0022_orders
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_availability"
down_revision: str | None = "0022_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teammates") as batch:
        batch.add_column(sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("away_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teammates") as batch:
        batch.drop_column("away_since")
        batch.drop_column("away")
