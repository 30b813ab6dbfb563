"""Kazi's customer record as SQLAlchemy models (DESIGN "The customer record").

Importing this package also installs workspace isolation on every Session
(see engine.models.scoping); open sessions with engine.db.workspace_session or
engine.db.system_session.
"""

from engine.models.base import Base, UTCDateTime, WorkspaceScoped
from engine.models.events import InboundEvent, OutboxRow
from engine.models.scoping import CrossWorkspaceError, UnscopedSessionError
from engine.models.states import (
    ActorKind,
    AuthorKind,
    BusinessObjectKind,
    Channel,
    ConversationStatus,
    DeliveryState,
    Direction,
    InboundState,
    MessageType,
    OutboxState,
    Priority,
    SubjectKind,
    WaitingOn,
)
from engine.models.workspace import Team, Teammate, TeamMembership, Workspace

__all__ = [
    "ActorKind",
    "AuthorKind",
    "Base",
    "BusinessObjectKind",
    "Channel",
    "ConversationStatus",
    "CrossWorkspaceError",
    "DeliveryState",
    "Direction",
    "InboundEvent",
    "InboundState",
    "MessageType",
    "OutboxRow",
    "OutboxState",
    "Priority",
    "SubjectKind",
    "Team",
    "TeamMembership",
    "Teammate",
    "UTCDateTime",
    "UnscopedSessionError",
    "WaitingOn",
    "Workspace",
    "WorkspaceScoped",
]
