"""Indexes the inbox's queues and search need at 300,000 conversations.

- The live queues and their counts already read open conversations through the
  partial unique index uq_conversations_one_open; the resolved queue now reads its
  newest rows off a partial index of its own.
- PostgreSQL: message text is searched with full-text search over a GIN index on
  `to_tsvector('simple', body)`; names and numbers by any part with pg_trgm GIN
  indexes. `CREATE EXTENSION IF NOT EXISTS pg_trgm` needs a role that may create
  extensions in the database (pg_trgm is a trusted extension since PostgreSQL 13, so
  the database owner may). The extension is left in place on downgrade: other
  objects may use it.
- SQLite searches with LIKE; the trigram indexes are plain indexes there and the
  full-text index does not exist.

The indexes are built in the migration's transaction, which blocks writes to these
tables while they build (about a minute for 3,000,000 messages): run it in a quiet
moment on a big database.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_contacts_name_trigrams", "contacts", "name"),
    ("ix_contacts_profile_name_trigrams", "contacts", "profile_name"),
    ("ix_identities_address_trigrams", "identities", "address"),
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index(
        "ix_conversations_resolved_recent",
        "conversations",
        ["workspace_id", "resolved_at", "id"],
        unique=False,
        sqlite_where=sa.text("status = 'resolved'"),
        postgresql_where=sa.text("status = 'resolved'"),
    )
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_messages_body_words",
            "messages",
            [sa.text("to_tsvector('simple', body)")],
            unique=False,
            postgresql_using="gin",
        )
    for name, table, column in TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for name, table, _column in TRIGRAM_INDEXES:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_messages_body_words", table_name="messages")
    op.drop_index("ix_conversations_resolved_recent", table_name="conversations")
