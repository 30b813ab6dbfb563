"""Kazi's customer record as SQLAlchemy models (DESIGN "The customer record").

Importing this package also installs workspace isolation on every Session
(see engine.models.scoping); open sessions with engine.db.workspace_session or
engine.db.system_session.
"""

from engine.models.auth import ApiToken, SignInAttempt, WebSession
from engine.models.automation import ScheduledAction
from engine.models.base import Base, UTCDateTime, WorkspaceScoped
from engine.models.business import BusinessObject, BusinessObjectLink
from engine.models.contacts import Company, Contact, ContactMerge, Identity
from engine.models.conversations import (
    Conversation,
    ConversationTag,
    Message,
    MessageStatusEvent,
    Note,
    Task,
)
from engine.models.events import InboundEvent, OutboxRow
from engine.models.history import AuditLog, ConfigVersion, RuleFiring, RuleTrace, StageHistory
from engine.models.media import MediaFile
from engine.models.notifications import Notification
from engine.models.presence import Presence
from engine.models.reports import ReportMark, ReportTally
from engine.models.scoping import CrossWorkspaceError, UnscopedSessionError
from engine.models.sla import SlaClock
from engine.models.states import (
    ActorKind,
    AuthorKind,
    BusinessObjectKind,
    Channel,
    ConversationStatus,
    DelayState,
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
    "ApiToken",
    "AuditLog",
    "AuthorKind",
    "Base",
    "BusinessObject",
    "BusinessObjectKind",
    "BusinessObjectLink",
    "Channel",
    "Company",
    "ConfigVersion",
    "Contact",
    "ContactMerge",
    "Conversation",
    "ConversationStatus",
    "ConversationTag",
    "CrossWorkspaceError",
    "DelayState",
    "DeliveryState",
    "Direction",
    "Identity",
    "InboundEvent",
    "InboundState",
    "MediaFile",
    "Message",
    "MessageStatusEvent",
    "MessageType",
    "Note",
    "Notification",
    "OutboxRow",
    "OutboxState",
    "Presence",
    "Priority",
    "ReportMark",
    "ReportTally",
    "RuleFiring",
    "RuleTrace",
    "ScheduledAction",
    "SignInAttempt",
    "SlaClock",
    "StageHistory",
    "SubjectKind",
    "Task",
    "Team",
    "TeamMembership",
    "Teammate",
    "UTCDateTime",
    "UnscopedSessionError",
    "WaitingOn",
    "WebSession",
    "Workspace",
    "WorkspaceScoped",
]
