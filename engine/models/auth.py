"""Who is signed in, which scripts may call the API, and who tried to sign in.

All three are workspace rows like every other: a sign-in session or an API
token is looked up inside the workspace its cookie or token names, so a stolen
token of one workspace can never open another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, WorkspaceScoped


class WebSession(WorkspaceScoped, Base):
    """A teammate's browser session, held on the server; the cookie carries only
    a random secret whose SHA-256 is stored here, so a database leak opens nothing."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "token_hash"),
        Index(None, "workspace_id", "teammate_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teammate_id: Mapped[int] = mapped_column(ForeignKey("teammates.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # "signed out", "password changed", "ended by an admin", "rotated"
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(WorkspaceScoped, Base):
    """A Bearer token for integrations and scripts; acts with its role, as no teammate."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("workspace_id", "token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempt(WorkspaceScoped, Base):
    """One try at signing in; recent failures throttle the next tries in every process."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index(None, "workspace_id", "login", "at"),
        Index(None, "workspace_id", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lower-cased handle or email typed in, whether or not it names anyone.
    login: Mapped[str] = mapped_column(String(320))
    client: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime]
