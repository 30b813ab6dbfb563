"""The one authorization policy: may this teammate (or API token) see or do this?

Pages, the JSON API and live updates all reach customer data through the
engine.inbox services, and those call `require` here; nothing else decides.
Workspace isolation is not decided here: a principal's session only ever sees
its own workspace's rows (engine.models.scoping), so a foreign id is simply
not found.

The rules, in the business's words:
- Everyone in the workspace may see every conversation and write internal notes
  and tasks on it (a small team helps each other).
- Working a conversation (reply, status, snooze, tags, stage) belongs to its
  owner; an unowned conversation may be worked by any teammate; managers and
  admins may work any conversation.
- Claiming takes an unowned conversation; taking one from its owner, or
  assigning anyone but yourself, is a manager's call. An agent may hand over
  (transfer) a conversation they own.
- Teammates, their sessions and integrations are an admin's.
- Anyone may add a contact or correct a contact's record (numbers and consent
  included); importing and exporting contact lists, merging two contacts and taking a
  contact's data out of Kazi (export) are a manager's; erasing a contact, which
  cannot be undone, is an admin's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from engine.auth.principal import Principal, Role


class Action(StrEnum):
    VIEW_CONVERSATION = "view conversation"
    WORK_CONVERSATION = "work conversation"  # reply, status, snooze, tags, stage
    ADD_NOTE = "add note"
    CREATE_TASK = "create task"
    CLAIM = "claim"
    ASSIGN = "assign"
    TRANSFER = "transfer"
    RETRY_MESSAGE = "retry message"
    VIEW_CONTACT = "view contact"
    EDIT_CONTACT = "edit contact"
    MERGE_CONTACTS = "merge contacts"  # and undo a merge
    EXPORT_CONTACT = "export contact"
    ERASE_CONTACT = "erase contact"
    IMPORT_CONTACTS = "import contacts"  # a contact list in from a file
    EXPORT_CONTACTS = "export contacts"  # a segment's contacts out to a file
    RECORD_CONSENT = "record consent"  # opt a contact in or out by hand
    MANAGE_TEAMMATES = "manage teammates"
    CHANGE_OWN_PASSWORD = "change own password"
    VIEW_REPORTS = "view reports"  # the manager's view: queue health across the team
    EDIT_CONFIG = "edit config"  # the builder: the workspace folder's files
    # Answer an escalation: its subject's `owner_id` is the teammate named to decide.
    DECIDE_ESCALATION = "decide escalation"
    SET_AVAILABILITY = "set availability"  # available or away, for routing
    SEND_BROADCASTS = "send broadcasts"  # a template to a segment of opted-in contacts


class Owned(Protocol):
    @property
    def owner_id(self) -> int | None: ...


class Forbidden(Exception):
    """The principal may not do this; the message says why, for a person."""


def _reason(principal: Principal, action: Action, subject: Owned | None) -> str | None:
    """None when allowed, else why not."""
    is_manager = principal.at_least(Role.MANAGER)
    owner = subject.owner_id if subject is not None else None
    mine = principal.teammate_id is not None and owner == principal.teammate_id
    match action:
        case (
            Action.VIEW_CONVERSATION
            | Action.ADD_NOTE
            | Action.CREATE_TASK
            | Action.VIEW_CONTACT
            | Action.EDIT_CONTACT
            | Action.RECORD_CONSENT
        ):
            return None
        case Action.MERGE_CONTACTS:
            return None if is_manager else "only a manager may merge contacts or undo a merge"
        case Action.IMPORT_CONTACTS | Action.EXPORT_CONTACTS:
            return None if is_manager else "only a manager may import or export contact lists"
        case Action.EXPORT_CONTACT:
            return None if is_manager else "only a manager may export a contact's data"
        case Action.ERASE_CONTACT:
            if principal.at_least(Role.ADMIN):
                return None
            return "only an admin may erase a contact"
        case Action.WORK_CONVERSATION | Action.RETRY_MESSAGE:
            if owner is None or mine or is_manager:
                return None
            return "only its owner or a manager may work this conversation; ask them to transfer it"
        case Action.CLAIM:
            if principal.teammate_id is None:
                return "an API token is nobody: assign the conversation to a teammate instead"
            if owner is None or mine or is_manager:
                return None
            return "this conversation already has an owner; a manager may reassign it"
        case Action.TRANSFER:
            if mine or is_manager:
                return None
            if owner is None:
                return "claim the conversation first, or ask a manager to assign it"
            return "only its owner or a manager may transfer this conversation"
        case Action.ASSIGN:
            return None if is_manager else "only a manager may assign conversations to others"
        case Action.DECIDE_ESCALATION:
            if mine or is_manager:
                return None
            return "only the teammate it was escalated to, or a manager, may decide"
        case Action.VIEW_REPORTS:
            return None if is_manager else "the manager's view is for managers and admins"
        case Action.EDIT_CONFIG:
            return None if is_manager else "the builder is for managers and admins"
        case Action.SEND_BROADCASTS:
            return None if is_manager else "only a manager may see or send broadcasts"
        case Action.MANAGE_TEAMMATES:
            return None if principal.at_least(Role.ADMIN) else "only an admin may manage teammates"
        case Action.SET_AVAILABILITY:
            # Subject: the teammate (owner_id is their id). Oneself, or a manager for anyone.
            if mine or is_manager:
                return None
            return "only a manager may set another teammate away or available"
        case Action.CHANGE_OWN_PASSWORD:
            return None if principal.teammate_id is not None else "an API token has no password"
    return f"{action} is not a known action"


def may(principal: Principal, action: Action, subject: Owned | None = None) -> bool:
    return _reason(principal, action, subject) is None


def require(principal: Principal, action: Action, subject: Owned | None = None) -> None:
    reason = _reason(principal, action, subject)
    if reason is not None:
        raise Forbidden(reason)
