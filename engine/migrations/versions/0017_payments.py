"""Payments: M-Pesa requests and the payments answering them, unique per request, checkout id
and receipt in a workspace.

Revision ID: 0017_payments
Revises: 0016_whatsapp_shapes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_payments"
down_revision: str | None = "0016_whatsapp_shapes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("business_object_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("account_reference", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "pending",
                "paid",
                "failed",
                "cancelled",
                "timeout",
                "unknown",
                name="payment_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checkout_request_id", sa.String(length=128), nullable=True),
        sa.Column("merchant_request_id", sa.String(length=128), nullable=True),
        sa.Column("receipt", sa.String(length=64), nullable=True),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("result_meaning", sa.Text(), nullable=True),
        sa.Column("flag", sa.Text(), nullable=True),
        sa.Column("raw_callback", JSON, nullable=True),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_queried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_object_id"],
            ["business_objects.id"],
            name=op.f("fk_payments_business_object_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_payments_conversation_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_payments_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "workspace_id",
            "checkout_request_id",
            name=op.f("uq_payments_workspace_id_checkout_request_id"),
        ),
        sa.UniqueConstraint(
            "workspace_id", "receipt", name=op.f("uq_payments_workspace_id_receipt")
        ),
        sa.UniqueConstraint(
            "workspace_id", "request_key", name=op.f("uq_payments_workspace_id_request_key")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_business_object_id"), ["business_object_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_workspace_id_phone_state"),
            ["workspace_id", "phone", "state"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_payments_workspace_id_state_updated_at"),
            ["workspace_id", "state", "updated_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_workspace_id_state_updated_at"))
        batch_op.drop_index(batch_op.f("ix_payments_workspace_id_phone_state"))
        batch_op.drop_index(batch_op.f("ix_payments_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_payments_business_object_id"))

    op.drop_table("payments")
