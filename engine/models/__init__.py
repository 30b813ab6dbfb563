"""Kazi's customer record as SQLAlchemy models (DESIGN "The customer record").

Importing this package also installs workspace isolation on every Session
(see engine.models.scoping); open sessions with engine.db.workspace_session or
engine.db.system_session.
"""

from engine.models.ai import AiResult, AiUsage
from engine.models.audience import (
    ConsentEvent,
    ConsentState,
    ContactConsent,
    ContactImport,
    ContactTag,
    ImportState,
    SavedSegment,
)
from engine.models.auth import ApiToken, SignInAttempt, WebSession
from engine.models.automation import ScheduledAction
from engine.models.base import Base, UTCDateTime, WorkspaceScoped
from engine.models.broadcasts import (
    Broadcast,
    BroadcastRecipient,
    BroadcastState,
    RecipientState,
)
from engine.models.business import BusinessObject, BusinessObjectLink, BusinessObjectRelation
from engine.models.contacts import Company, Contact, ContactMerge, Identity
from engine.models.conversations import (
    Conversation,
    ConversationTag,
    Escalation,
    Message,
    MessageStatusEvent,
    Note,
    Task,
)
from engine.models.events import InboundEvent, OutboxRow
from engine.models.history import AuditLog, ConfigVersion, RuleFiring, RuleTrace, StageHistory
from engine.models.media import MediaFile
from engine.models.message_changes import MessageEdit, MessageReaction, UnmatchedItem
from engine.models.notifications import Notification
from engine.models.payments import Payment
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
    Reactor,
    SentVia,
    SubjectKind,
    UnmatchedState,
    WaitingOn,
)
from engine.models.templates import MessagingPreference, TemplateStatus
from engine.models.workspace import Team, Teammate, TeamMembership, Workspace

__all__ = [
    "ActorKind",
    "AiResult",
    "AiUsage",
    "ApiToken",
    "AuditLog",
    "AuthorKind",
    "Base",
    "Broadcast",
    "BroadcastRecipient",
    "BroadcastState",
    "BusinessObject",
    "BusinessObjectKind",
    "BusinessObjectLink",
    "BusinessObjectRelation",
    "Channel",
    "Company",
    "ConfigVersion",
    "ConsentEvent",
    "ConsentState",
    "Contact",
    "ContactConsent",
    "ContactImport",
    "ContactMerge",
    "ContactTag",
    "Conversation",
    "ConversationStatus",
    "ConversationTag",
    "CrossWorkspaceError",
    "DelayState",
    "DeliveryState",
    "Direction",
    "Escalation",
    "Identity",
    "ImportState",
    "InboundEvent",
    "InboundState",
    "MediaFile",
    "Message",
    "MessageEdit",
    "MessageReaction",
    "MessageStatusEvent",
    "MessageType",
    "MessagingPreference",
    "Note",
    "Notification",
    "OutboxRow",
    "OutboxState",
    "Payment",
    "Presence",
    "Priority",
    "Reactor",
    "RecipientState",
    "ReportMark",
    "ReportTally",
    "RuleFiring",
    "RuleTrace",
    "SavedSegment",
    "ScheduledAction",
    "SentVia",
    "SignInAttempt",
    "SlaClock",
    "StageHistory",
    "SubjectKind",
    "Task",
    "Team",
    "TeamMembership",
    "Teammate",
    "TemplateStatus",
    "UTCDateTime",
    "UnmatchedItem",
    "UnmatchedState",
    "UnscopedSessionError",
    "WaitingOn",
    "WebSession",
    "Workspace",
    "WorkspaceScoped",
]
