"""The tenant and the people who work in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models.base import Base, WorkspaceScoped


class Workspace(Base):
    """One business on the server. Every other row belongs to exactly one workspace."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    retention_days: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Teammate(WorkspaceScoped, Base):
    """A member of staff who answers conversations (or, with no password, a config-only one)."""

    __tablename__ = "teammates"
    __table_args__ = (UniqueConstraint("workspace_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32), default="agent")
    # How many open conversations routing may give this teammate at once; None = no cap.
    capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Set away by the teammate (header toggle, API): routing passes them over until back.
    away: Mapped[bool] = mapped_column(default=False, server_default=false())
    away_since: Mapped[datetime | None]
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="teammate")


class Team(WorkspaceScoped, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="team")


class TeamMembership(WorkspaceScoped, Base):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "teammate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    teammate_id: Mapped[int] = mapped_column(
        ForeignKey("teammates.id", ondelete="CASCADE"), index=True
    )

    team: Mapped[Team] = relationship(back_populates="memberships")
    teammate: Mapped[Teammate] = relationship(back_populates="memberships")
