"""Threads of work with a contact, and what is said and done in them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped, choice
from engine.models.states import (
    AuthorKind,
    ConversationStatus,
    DeliveryState,
    Direction,
    MessageType,
    Priority,
    WaitingOn,
    values,
)

if TYPE_CHECKING:
    from engine.models.business import BusinessObject, BusinessObjectLink
    from engine.models.contacts import Contact
    from engine.models.workspace import Team, Teammate


class Conversation(WorkspaceScoped, Base):
    """A thread of work with one contact on one business number.

    At most one is not resolved per (workspace, contact, business number): a new
    message reopens or continues it instead of starting a second thread.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "uq_conversations_one_open",
            "workspace_id",
            "contact_id",
            "business_number",
            unique=True,
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index(None, "workspace_id", "status", "owner_id"),
        Index(None, "contact_id"),
        # The live queues read open conversations (about 1 % in a working shop)
        # through uq_conversations_one_open above; the resolved queue, newest
        # first, reads this one.
        Index(
            "ix_conversations_resolved_recent",
            "workspace_id",
            "resolved_at",
            "id",
            sqlite_where=text("status = 'resolved'"),
            postgresql_where=text("status = 'resolved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    business_number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(
        choice("conversation_status", values(ConversationStatus)),
        default=ConversationStatus.OPEN,
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("teammates.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[str] = mapped_column(
        choice("conversation_priority", values(Priority)), default=Priority.NORMAL
    )
    pipeline: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(64))
    waiting_on: Mapped[str | None] = mapped_column(choice("waiting_on", values(WaitingOn)))
    snoozed_until: Mapped[datetime | None]
    # Starts WhatsApp's 24-hour free-text window (DESIGN rule 9).
    last_customer_message_at: Mapped[datetime | None]
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # The workspace's own conversation fields (workspace.yaml `fields:`), set by rules or staff.
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)

    contact: Mapped[Contact] = relationship(back_populates="conversations")
    owner: Mapped[Teammate | None] = relationship()
    team: Mapped[Team | None] = relationship()
    tags: Mapped[list[ConversationTag]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="ConversationTag.name"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )
    notes: Mapped[list[Note]] = relationship(back_populates="conversation")
    business_object_links: Mapped[list[BusinessObjectLink]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan"
    )
    business_objects: Mapped[list[BusinessObject]] = relationship(
        secondary="business_object_links", viewonly=True, order_by="BusinessObject.id"
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class ConversationTag(WorkspaceScoped, Base):
    """A tag on a conversation.

    A table, not a JSON list: "conversations tagged X" is then a plain indexed
    join on SQLite and PostgreSQL alike, where a JSON list needs `json_each` on
    one and `@>` on the other, and a tag is added or removed without rewriting
    the conversation row other writers may be updating.
    """

    __tablename__ = "conversation_tags"
    __table_args__ = (
        UniqueConstraint("conversation_id", "name"),
        Index(None, "workspace_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    conversation: Mapped[Conversation] = relationship(back_populates="tags")


# Outbound messages that failed, or whose fate is unknown: what staff must look at.
FAILED_SEND_SQL = (
    "direction = 'outbound' AND (delivery_state = 'failed' OR failure_code = 'unknown')"
)
# Rule-sent messages, for the reports' automation section; identical to migration
# 0021_rule_sends_index's RULE_SEND_SQL.
RULE_SEND_SQL = "author_kind = 'rule'"


class Message(WorkspaceScoped, Base):
    """One message in or out. Outbound ones carry a delivery state (DESIGN rule 3)."""

    __tablename__ = "messages"
    __table_args__ = (
        # NULLs never collide, so this binds only messages the provider has named.
        UniqueConstraint("workspace_id", "provider_message_id"),
        Index(None, "conversation_id", "provider_timestamp"),
        # The failures page's sends, newest first, without reading every message;
        # the predicate must stay identical to engine.inbox.failures.FAILED_SEND.
        Index(
            "ix_messages_failed_sends",
            "workspace_id",
            "id",
            postgresql_where=text(FAILED_SEND_SQL),
            sqlite_where=text(FAILED_SEND_SQL),
        ),
        Index(
            "ix_messages_rule_sends",
            "workspace_id",
            "provider_timestamp",
            postgresql_where=text(RULE_SEND_SQL),
            sqlite_where=text(RULE_SEND_SQL),
        ),
        # Full-text search of message text; the expression must stay identical to
        # engine.inbox.queues.MESSAGE_WORDS for PostgreSQL to use it. SQLite searches
        # with LIKE and has no such index.
        Index(
            "ix_messages_body_words",
            text("to_tsvector('simple', body)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(choice("message_direction", values(Direction)))
    type: Mapped[str] = mapped_column(choice("message_type", values(MessageType)))
    body: Mapped[str | None] = mapped_column(Text)
    # Where the media is (provider media id, mime type, file name, size); never the bytes.
    media: Mapped[dict[str, Any] | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    replied_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    # The provider's id of the quoted message, kept even when we never stored it.
    replied_to_provider_message_id: Mapped[str | None] = mapped_column(String(255))
    author_kind: Mapped[str] = mapped_column(choice("message_author_kind", values(AuthorKind)))
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    author_teammate_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    author_rule: Mapped[str | None] = mapped_column(String(200))
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    delivery_state: Mapped[str | None] = mapped_column(
        choice("message_delivery_state", values(DeliveryState))
    )
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_detail: Mapped[str | None] = mapped_column(Text)
    provider_timestamp: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # An outbound message not sent through Kazi: a SentVia value, "business_app" for a
    # coexistence echo. Plain text, not a CHECK: new ways in need no table rebuild.
    sent_via: Mapped[str | None] = mapped_column(String(32))
    # The sender edited it (history in message_edits) or deleted it (kept for the audit,
    # hidden on the page) in WhatsApp.
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    replied_to: Mapped[Message | None] = relationship(remote_side=[id])
    status_events: Mapped[list[MessageStatusEvent]] = relationship(
        back_populates="message", order_by="MessageStatusEvent.id"
    )


class MessageStatusEvent(WorkspaceScoped, Base):
    """Every raw delivery status the provider sent, kept even when it cannot move
    the message's state (a late `delivered` after `read`)."""

    __tablename__ = "message_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    provider_timestamp: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inbound_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_events.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="status_events")


class Note(WorkspaceScoped, Base):
    """An internal note on a conversation; never sent to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author_kind: Mapped[str] = mapped_column(choice("note_author_kind", values(AuthorKind)))
    author_teammate_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    author_rule: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]

    conversation: Mapped[Conversation] = relationship(back_populates="notes")


class Task(WorkspaceScoped, Base):
    """Something a teammate must do, linked to a conversation or a business object."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index(None, "workspace_id", "assignee_id", "done_at"),
        Index("ix_tasks_due", "done_at", "due_reported_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("teammates.id", ondelete="SET NULL"))
    # A task for a team's list waits there unassigned until someone takes it.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None]
    # A rule's message held because a value was empty: {template, language, missing}.
    held_send: Mapped[dict[str, Any] | None]
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    business_object_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_objects.id", ondelete="CASCADE"), index=True
    )
    # When its "task due" event went to the rules; the sweeper hands out each task once.
    due_reported_at: Mapped[datetime | None]
    enqueued_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    assignee: Mapped[Teammate | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    business_object: Mapped[BusinessObject | None] = relationship()


class Escalation(WorkspaceScoped, Base):
    """A named teammate must decide about a conversation: who asked, why, since when, and
    (once decided) approved or declined with a note."""

    __tablename__ = "escalations"
    __table_args__ = (Index(None, "workspace_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    decider_id: Mapped[int] = mapped_column(ForeignKey("teammates.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # A teammate, or a rule by name.
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("teammates.id", ondelete="SET NULL"))
    asked_by_rule: Mapped[str | None] = mapped_column(String(200))
    asked_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(16))  # "approved" | "declined"
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]

    decider: Mapped[Teammate] = relationship(foreign_keys=[decider_id])
    asked_by: Mapped[Teammate | None] = relationship(foreign_keys=[asked_by_id])
    decided_by: Mapped[Teammate | None] = relationship(foreign_keys=[decided_by_id])
    conversation: Mapped[Conversation] = relationship()
