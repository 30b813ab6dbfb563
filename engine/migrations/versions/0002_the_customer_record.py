"""The customer record: contacts and identities, conversations and messages,
business objects, history, config versions and rule firings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_companies_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    op.create_index(op.f("ix_companies_workspace_id_name"), "companies", ["workspace_id", "name"])

    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("compiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_summary", JSON_DOCUMENT, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_config_versions_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_versions")),
        sa.UniqueConstraint(
            "workspace_id", "hash", name=op.f("uq_config_versions_workspace_id_hash")
        ),
    )
    op.create_index(
        "uq_config_versions_one_active",
        "config_versions",
        ["workspace_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "teammate",
                "rule",
                "contact",
                "system",
                name="audit_actor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_teammate_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_audit_log_actor_teammate_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_audit_log_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audit_log_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_workspace_id_at"), "audit_log", ["workspace_id", "at"])
    op.create_index(
        op.f("ix_audit_log_workspace_id_subject_kind_subject_id"),
        "audit_log",
        ["workspace_id", "subject_kind", "subject_id"],
    )

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("profile_name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contacts_company_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contacts_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_company_id"), "contacts", ["company_id"])
    op.create_index(op.f("ix_contacts_workspace_id_name"), "contacts", ["workspace_id", "name"])

    op.create_table(
        "rule_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=200), nullable=False),
        sa.Column("trigger_key", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_rule_firings_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_rule_firings_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_firings")),
        sa.UniqueConstraint(
            "workspace_id",
            "rule_name",
            "trigger_key",
            name=op.f("uq_rule_firings_workspace_id_rule_name_trigger_key"),
        ),
    )
    op.create_table(
        "stage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum(
                "conversation",
                "business_object",
                name="stage_subject_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("from_stage", sa.String(length=64), nullable=True),
        sa.Column("to_stage", sa.String(length=64), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "teammate",
                "rule",
                "contact",
                "system",
                name="stage_actor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_teammate_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=200), nullable=True),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_stage_history_actor_teammate_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_stage_history_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_stage_history_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_history")),
    )
    op.create_index(
        op.f("ix_stage_history_workspace_id_subject_kind_subject_id"),
        "stage_history",
        ["workspace_id", "subject_kind", "subject_id"],
    )

    op.create_table(
        "business_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "lead",
                "order",
                "booking",
                "support_case",
                "payment_request",
                "account",
                name="business_object_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("external_ref", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("pipeline", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_business_objects_contact_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_business_objects_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_objects")),
        sa.UniqueConstraint(
            "workspace_id",
            "kind",
            "external_ref",
            name=op.f("uq_business_objects_workspace_id_kind_external_ref"),
        ),
    )
    op.create_index(op.f("ix_business_objects_contact_id"), "business_objects", ["contact_id"])
    op.create_index(
        op.f("ix_business_objects_workspace_id_kind_status"),
        "business_objects",
        ["workspace_id", "kind", "status"],
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("business_number", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "waiting_on_us",
                "waiting_on_customer",
                "snoozed",
                "resolved",
                name="conversation_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="conversation_priority",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("pipeline", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column(
            "waiting_on",
            sa.Enum(
                "us",
                "customer",
                name="waiting_on",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_customer_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_conversations_contact_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["teammates.id"],
            name=op.f("fk_conversations_owner_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_conversations_team_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversations_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_contact_id"), "conversations", ["contact_id"])
    op.create_index(op.f("ix_conversations_team_id"), "conversations", ["team_id"])
    op.create_index(
        op.f("ix_conversations_workspace_id_status_owner_id"),
        "conversations",
        ["workspace_id", "status", "owner_id"],
    )
    op.create_index(
        "uq_conversations_one_open",
        "conversations",
        ["workspace_id", "contact_id", "business_number"],
        unique=True,
        sqlite_where=sa.text("status <> 'resolved'"),
        postgresql_where=sa.text("status <> 'resolved'"),
    )

    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "whatsapp",
                "phone",
                "email",
                name="identity_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(is_current AND valid_to IS NULL) OR (NOT is_current AND valid_to IS NOT NULL)",
            name=op.f("ck_identities_current_means_open"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_identities_contact_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_identities_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
    )
    op.create_index(op.f("ix_identities_contact_id"), "identities", ["contact_id"])
    op.create_index(
        op.f("ix_identities_workspace_id_channel_address"),
        "identities",
        ["workspace_id", "channel", "address"],
    )
    op.create_index(
        "uq_identities_current_address",
        "identities",
        ["workspace_id", "channel", "address"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "business_object_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_object_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_object_id"],
            ["business_objects.id"],
            name=op.f("fk_business_object_links_business_object_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_business_object_links_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_business_object_links_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_object_links")),
        sa.UniqueConstraint(
            "business_object_id",
            "conversation_id",
            name=op.f("uq_business_object_links_business_object_id_conversation_id"),
        ),
    )
    op.create_index(
        op.f("ix_business_object_links_conversation_id"),
        "business_object_links",
        ["conversation_id"],
    )

    op.create_table(
        "conversation_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_conversation_tags_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_tags")),
        sa.UniqueConstraint(
            "conversation_id", "name", name=op.f("uq_conversation_tags_conversation_id_name")
        ),
    )
    op.create_index(
        op.f("ix_conversation_tags_workspace_id_name"),
        "conversation_tags",
        ["workspace_id", "name"],
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="message_direction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "text",
                "image",
                "audio",
                "video",
                "document",
                "sticker",
                "location",
                "contacts",
                "interactive",
                "button",
                "template",
                "reaction",
                "unsupported",
                name="message_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("media", JSON_DOCUMENT, nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("replied_to_id", sa.Integer(), nullable=True),
        sa.Column("replied_to_provider_message_id", sa.String(length=255), nullable=True),
        sa.Column(
            "author_kind",
            sa.Enum(
                "contact",
                "teammate",
                "rule",
                name="message_author_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("author_contact_id", sa.Integer(), nullable=True),
        sa.Column("author_teammate_id", sa.Integer(), nullable=True),
        sa.Column("author_rule", sa.String(length=200), nullable=True),
        sa.Column("config_version_id", sa.Integer(), nullable=True),
        sa.Column(
            "delivery_state",
            sa.Enum(
                "queued",
                "sending",
                "accepted",
                "sent",
                "delivered",
                "read",
                "failed",
                name="message_delivery_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_detail", sa.Text(), nullable=True),
        sa.Column("provider_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_contact_id"],
            ["contacts.id"],
            name=op.f("fk_messages_author_contact_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_messages_author_teammate_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["config_version_id"],
            ["config_versions.id"],
            name=op.f("fk_messages_config_version_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replied_to_id"],
            ["messages.id"],
            name=op.f("fk_messages_replied_to_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_messages_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider_message_id",
            name=op.f("uq_messages_workspace_id_provider_message_id"),
        ),
    )
    op.create_index(
        op.f("ix_messages_conversation_id_provider_timestamp"),
        "messages",
        ["conversation_id", "provider_timestamp"],
    )

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "author_kind",
            sa.Enum(
                "contact",
                "teammate",
                "rule",
                name="note_author_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("author_teammate_id", sa.Integer(), nullable=True),
        sa.Column("author_rule", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_notes_author_teammate_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_notes_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_notes_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_conversation_id"), "notes", ["conversation_id"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("business_object_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["teammates.id"],
            name=op.f("fk_tasks_assignee_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["business_object_id"],
            ["business_objects.id"],
            name=op.f("fk_tasks_business_object_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_tasks_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_tasks_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_business_object_id"), "tasks", ["business_object_id"])
    op.create_index(op.f("ix_tasks_conversation_id"), "tasks", ["conversation_id"])
    op.create_index(
        op.f("ix_tasks_workspace_id_assignee_id_done_at"),
        "tasks",
        ["workspace_id", "assignee_id", "done_at"],
    )

    op.create_table(
        "message_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("provider_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", JSON_DOCUMENT, nullable=False),
        sa.Column("inbound_event_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_event_id"],
            ["inbound_events.id"],
            name=op.f("fk_message_status_events_inbound_event_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_status_events_message_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_message_status_events_workspace_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_status_events")),
    )
    op.create_index(
        op.f("ix_message_status_events_message_id"), "message_status_events", ["message_id"]
    )

    with op.batch_alter_table("outbox_rows", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_rows_conversation_id"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_rows", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_rows_conversation_id"), type_="foreignkey")

    op.drop_index(op.f("ix_message_status_events_message_id"), "message_status_events")

    op.drop_table("message_status_events")
    op.drop_index(op.f("ix_tasks_workspace_id_assignee_id_done_at"), "tasks")
    op.drop_index(op.f("ix_tasks_conversation_id"), "tasks")
    op.drop_index(op.f("ix_tasks_business_object_id"), "tasks")

    op.drop_table("tasks")
    op.drop_index(op.f("ix_notes_conversation_id"), "notes")

    op.drop_table("notes")
    op.drop_index(op.f("ix_messages_conversation_id_provider_timestamp"), "messages")

    op.drop_table("messages")
    op.drop_index(op.f("ix_conversation_tags_workspace_id_name"), "conversation_tags")

    op.drop_table("conversation_tags")
    op.drop_index(op.f("ix_business_object_links_conversation_id"), "business_object_links")

    op.drop_table("business_object_links")
    op.drop_index("uq_identities_current_address", "identities")
    op.drop_index(op.f("ix_identities_workspace_id_channel_address"), "identities")
    op.drop_index(op.f("ix_identities_contact_id"), "identities")

    op.drop_table("identities")
    op.drop_index("uq_conversations_one_open", "conversations")
    op.drop_index(op.f("ix_conversations_workspace_id_status_owner_id"), "conversations")
    op.drop_index(op.f("ix_conversations_team_id"), "conversations")
    op.drop_index(op.f("ix_conversations_contact_id"), "conversations")

    op.drop_table("conversations")
    op.drop_index(op.f("ix_business_objects_workspace_id_kind_status"), "business_objects")
    op.drop_index(op.f("ix_business_objects_contact_id"), "business_objects")

    op.drop_table("business_objects")
    op.drop_index(op.f("ix_stage_history_workspace_id_subject_kind_subject_id"), "stage_history")

    op.drop_table("stage_history")
    op.drop_table("rule_firings")
    op.drop_index(op.f("ix_contacts_workspace_id_name"), "contacts")
    op.drop_index(op.f("ix_contacts_company_id"), "contacts")

    op.drop_table("contacts")
    op.drop_index(op.f("ix_audit_log_workspace_id_subject_kind_subject_id"), "audit_log")
    op.drop_index(op.f("ix_audit_log_workspace_id_at"), "audit_log")

    op.drop_table("audit_log")
    op.drop_index("uq_config_versions_one_active", "config_versions")

    op.drop_table("config_versions")
    op.drop_index(op.f("ix_companies_workspace_id_name"), "companies")

    op.drop_table("companies")
