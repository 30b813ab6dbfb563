"""Quick replies (replies.yaml) filled in for one conversation and the agent inserting them.

Filling happens here, on the server, so the page, the API and any other client insert
the same text. The result is plain text: pages escape it like any other value, and the
agent still reads, edits and sends it as an ordinary reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.auth.policy import Action, may
from engine.auth.principal import Principal
from engine.core.config import QuickReply
from engine.inbox.lookup import conversation_for
from engine.models import Teammate
from engine.outbox.sends import window_is_open

VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
WINDOW_CLOSED = (
    "The 24-hour window is closed: WhatsApp allows only approved templates now, so quick "
    "replies (free text) are not offered. Pick a template instead."
)
MAY_NOT_WORK = "Only the owner or a manager may reply in this conversation."


@dataclass(frozen=True)
class FilledReply:
    shortcut: str
    title: str
    language: str | None
    text: str


@dataclass(frozen=True)
class QuickReplyOffer:
    """The replies this agent may insert now, or why there are none."""

    available: bool
    reason: str | None
    replies: tuple[FilledReply, ...] = ()


def first_word(name: str | None) -> str:
    words = (name or "").split()
    return words[0] if words else ""


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {{variable}} replaced by its value, in one pass.

    One pass matters: a customer who calls themselves "{{agent.first_name}}" gets that
    text back literally, never a second substitution. An unknown variable cannot reach
    here (the loader refuses it); should one, it is left as written.
    """
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def offer(
    replies: tuple[QuickReply, ...],
    values: Mapping[str, str],
    *,
    contact_language: str | None,
    window_open: bool,
    may_reply: bool,
) -> QuickReplyOffer:
    """Pure: which replies to offer, filled, the customer's language first."""
    if not may_reply:
        return QuickReplyOffer(False, MAY_NOT_WORK)
    if not window_open:
        return QuickReplyOffer(False, WINDOW_CLOSED)
    ordered = sorted(
        replies,
        key=lambda r: (contact_language is None or r.language != contact_language, r.shortcut),
    )
    return QuickReplyOffer(
        True,
        None,
        tuple(FilledReply(r.shortcut, r.title, r.language, fill(r.text, values)) for r in ordered),
    )


def quick_replies_for(
    session: Session,
    principal: Principal,
    conversation_id: int,
    replies: tuple[QuickReply, ...],
    now: datetime,
) -> QuickReplyOffer:
    """The workspace's quick replies for this conversation, filled for this agent."""
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    contact = conversation.contact
    agent = session.get(Teammate, principal.teammate_id) if principal.teammate_id else None
    values = {
        "contact.name": contact.name or contact.profile_name or "",
        "contact.first_name": first_word(contact.name or contact.profile_name),
        "agent.first_name": first_word(agent.name) if agent else "",
    }
    return offer(
        replies,
        values,
        contact_language=contact.language,
        window_open=window_is_open(conversation, now),
        may_reply=may(principal, Action.WORK_CONVERSATION, conversation),
    )
