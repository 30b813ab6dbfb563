"""What changed, who or which rule changed it, under which config (DESIGN rules 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, JSONDocument, WorkspaceScoped, choice
from engine.models.states import ActorKind, SubjectKind, values


class ConfigVersion(WorkspaceScoped, Base):
    """A compiled workspace config that was (or is) in force, named by its hash."""

    __tablename__ = "config_versions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "hash"),
        # One config in force per workspace at any moment.
        Index(
            "uq_config_versions_one_active",
            "workspace_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    compiled_at: Mapped[datetime]
    # Which files and rules went in (names, hashes, counts): enough to explain, not the text.
    source_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=False)


class StageHistory(WorkspaceScoped, Base):
    """One move of a conversation or business object from stage to stage."""

    __tablename__ = "stage_history"
    __table_args__ = (Index(None, "workspace_id", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(choice("stage_subject_kind", values(SubjectKind)))
    subject_id: Mapped[int]
    pipeline: Mapped[str] = mapped_column(String(64))
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(choice("stage_actor_kind", values(ActorKind)))
    actor_teammate_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str | None] = mapped_column(String(200))
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    at: Mapped[datetime]


class AuditLog(WorkspaceScoped, Base):
    """Who did what to which record, including views and exports of customer data."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "workspace_id", "subject_kind", "subject_id"),
        Index(None, "workspace_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_kind: Mapped[str] = mapped_column(choice("audit_actor_kind", values(ActorKind)))
    actor_teammate_id: Mapped[int | None] = mapped_column(
        ForeignKey("teammates.id", ondelete="SET NULL")
    )
    # A rule's name or a job's name when the actor is not a teammate.
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    at: Mapped[datetime]


class RuleFiring(WorkspaceScoped, Base):
    """A rule ran for a triggering event; the unique key makes it run once (rule 7)."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        UniqueConstraint("workspace_id", "rule_name", "trigger_key"),
        # The runtime loop brake counts a rule's recent firings on one conversation.
        Index(None, "conversation_id", "rule_name", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_name: Mapped[str] = mapped_column(String(200))
    # The triggering domain event's stable key (e.g. "message:wamid.X", "stage:42:quoted").
    trigger_key: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    # None for a workspace-wide marker (a scheduled rule's occurrence).
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    fired_at: Mapped[datetime]


class RuleTrace(WorkspaceScoped, Base):
    """Why each rule an event could meet did or did not act: the page's "why", `kazi explain
    --trace` and the audit all read it. One row per evaluated event with candidate rules."""

    __tablename__ = "rule_traces"
    __table_args__ = (Index(None, "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(255))
    event_kind: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str | None] = mapped_column(String(255))
    caused_by: Mapped[str | None] = mapped_column(String(200))
    # [{"rule": ..., "fired": bool, "failed": condition text or null, "reason": ...}, ...]
    rules: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    config_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("config_versions.id", ondelete="SET NULL")
    )
    at: Mapped[datetime]
