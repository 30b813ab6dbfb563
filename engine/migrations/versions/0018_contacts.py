"""Contact tags, consent (opt-in / opt-out) with its history, uploaded contact lists,
saved segments.

Revision ID: 0018_contacts
Revises: 0017_payments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_contacts"
down_revision: str | None = "0017_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "mapping", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("default_region", sa.String(length=2), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "uploaded",
                "imported",
                name="contact_import_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "result", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["teammates.id"],
            name=op.f("fk_contact_imports_uploaded_by_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contact_imports_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_imports")),
    )
    with op.batch_alter_table("contact_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_imports_workspace_id_uploaded_at"),
            ["workspace_id", "uploaded_at"],
            unique=False,
        )

    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "definition", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["teammates.id"],
            name=op.f("fk_segments_created_by_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_segments_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_segments_workspace_id_name")),
    )
    op.create_table(
        "contact_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "opted_in",
                "opted_out",
                name="consent_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_customer", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_consents_contact_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contact_consents_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_consents")),
        sa.UniqueConstraint(
            "workspace_id", "contact_id", name=op.f("uq_contact_consents_workspace_id_contact_id")
        ),
    )
    op.create_table(
        "contact_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_tags_contact_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contact_tags_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_tags")),
        sa.UniqueConstraint(
            "workspace_id",
            "contact_id",
            "name",
            name=op.f("uq_contact_tags_workspace_id_contact_id_name"),
        ),
    )
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_tags_workspace_id_name"), ["workspace_id", "name"], unique=False
        )

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "opted_in",
                "opted_out",
                name="consent_event_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_customer", sa.Boolean(), nullable=False),
        sa.Column("teammate_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_consent_events_contact_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_consent_events_message_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"],
            ["teammates.id"],
            name=op.f("fk_consent_events_teammate_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_consent_events_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_workspace_id_contact_id_at"),
            ["workspace_id", "contact_id", "at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_workspace_id_contact_id_at"))

    op.drop_table("consent_events")
    with op.batch_alter_table("contact_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_tags_workspace_id_name"))

    op.drop_table("contact_tags")
    op.drop_table("contact_consents")
    op.drop_table("segments")
    with op.batch_alter_table("contact_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_imports_workspace_id_uploaded_at"))

    op.drop_table("contact_imports")
