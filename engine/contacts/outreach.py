"""The business writes first: a template to a contact with no open conversation.

WhatsApp allows only an approved template outside the 24-hour window, and only to people
who agreed to hear from the business, so a contact without a recorded opt-in is refused
with the reason. The conversation opens on the chosen business number, in the pipeline a
new conversation on that number starts in, owned by the teammate who wrote; the send goes
through the Desk (engine.automation.staff), so it is the reducer's like every staff action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.contacts.consent import consent_of, why_not_reachable
from engine.contacts.numbers import typed_number
from engine.contacts.people import number_holder
from engine.conversations.threads import open_or_reuse_conversation
from engine.core.config import BusinessNumber, WorkspaceConfig
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.contacts import surviving_contact
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.replies import PLACEHOLDER, TemplateChoice, template_choices
from engine.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Identity,
    Message,
    Teammate,
)


class NotReachable(InvalidInput):
    """The business may not write first to this person; the message says why."""


@dataclass(frozen=True)
class Started:
    conversation_id: int
    message_id: int


def find_by_number(session: Session, raw: str, default_region: str | None) -> Contact:
    """The contact whose current WhatsApp number is `raw` in any of its forms."""
    try:
        number = typed_number(raw, default_region)
    except ValueError as wrong:
        raise InvalidInput(f"number: {wrong}") from None
    holder = number_holder(session, number)
    if holder is None:
        raise NotReachable(
            f"no contact has the number {number.address}: add them as a contact with the "
            "opt-in they gave, then write to them"
        )
    return holder.contact


def reachability(session: Session, contact_id: int) -> str | None:
    """Why the business may not write first to this contact now, or None."""
    contact = surviving_contact(session, contact_id)
    if contact.erased_at is not None:
        return "this contact was erased"
    has_number = session.scalar(
        select(Identity.id)
        .where(
            Identity.contact_id == contact.id,
            Identity.channel == Channel.WHATSAPP,
            Identity.is_current.is_(True),
        )
        .limit(1)
    )
    if has_number is None:
        return "this contact has no WhatsApp number"
    return why_not_reachable(consent_of(session, contact.id))


def _business_number(numbers: tuple[BusinessNumber, ...], phone: str | None) -> BusinessNumber:
    if not numbers:
        raise InvalidInput("this workspace has no WhatsApp number (numbers in workspace.yaml)")
    if not phone:
        return numbers[0]
    chosen = next((n for n in numbers if n.phone == phone), None)
    if chosen is None:
        raise InvalidInput(f"{phone} is not one of this workspace's WhatsApp numbers")
    return chosen


def start_conversation(
    desk: Desk,
    principal: Principal,
    contact_id: int,
    *,
    template: str,
    language: str,
    parameters: list[str],
    now: datetime,
    business_phone: str | None = None,
) -> Started:
    """Open a conversation with the contact by sending `template` filled with `parameters`.

    NotReachable without a recorded opt-in (or after the customer opted out); Conflict
    when the contact already has an open conversation on that number (write there);
    InvalidInput for a template or values that do not fit. The caller commits; on any
    refusal nothing is written."""
    require(principal, Action.WORK_CONVERSATION)
    session = desk.session
    contact = surviving_contact(session, contact_id)
    reason = reachability(session, contact.id)
    if reason is not None:
        raise NotReachable(reason)
    config = desk.rules.config
    chosen = next(
        (t for t in config.templates if t.name == template and t.language == language), None
    )
    if chosen is None:
        raise InvalidInput(f"no template {template!r} in language {language!r} in this workspace")
    positions = sorted({int(n) for n in PLACEHOLDER.findall(chosen.body)})
    values = [p.strip() for p in parameters]
    if len(values) != len(positions) or any(not v for v in values):
        raise InvalidInput(f"template {template!r} needs {len(positions)} filled value(s)")
    if any(len(v) > 1024 for v in values):
        raise InvalidInput("a template value may have at most 1024 characters")
    number = _business_number(config.numbers, business_phone)
    conversation, opened = open_or_reuse_conversation(
        session, contact_id=contact.id, business_number=number.phone, now=now
    )
    if not opened:
        raise Conflict(
            f"this customer already has an open conversation (#{conversation.id}) on "
            f"{number.phone}: write there"
        )
    effects: list[fx.Effect] = []
    if principal.teammate_id is not None:
        me = session.get(Teammate, principal.teammate_id)
        if me is None:
            raise NotFound("this teammate no longer exists")
        effects.append(fx.Assign("", teammate=me.handle, claim=True))
    pipeline = config.starting_pipeline(number.phone)
    if pipeline is not None:
        effects.append(fx.MoveStage("", pipeline=pipeline.name, stage=pipeline.initial))
    effects.append(
        fx.SendTemplate("", template=chosen.name, language=chosen.language, variables=tuple(values))
    )
    applied = desk.change(conversation.id, actor_of(principal), effects, now)
    persisted = applied.persisted
    message = (
        session.get(Message, persisted.messages[0]) if persisted and persisted.messages else None
    )
    if message is None:
        raise InvalidInput("the template was not queued")
    return Started(conversation.id, message.id)


def open_conversations_of(session: Session, contact_id: int) -> list[tuple[int, str]]:
    """(conversation id, business number) of the contact's unresolved conversations."""
    return list(
        session.execute(
            select(Conversation.id, Conversation.business_number).where(
                Conversation.contact_id == contact_id,
                Conversation.status != ConversationStatus.RESOLVED,
            )
        ).tuples()
    )


@dataclass(frozen=True)
class Outreach:
    """What the record page offers to write first: why it cannot, or the templates."""

    reason: str | None
    templates: list[TemplateChoice]
    numbers: list[str]
    open_conversations: list[tuple[int, str]]


def outreach_of(session: Session, config: WorkspaceConfig | None, contact_id: int) -> Outreach:
    contact = surviving_contact(session, contact_id)
    return Outreach(
        reason=reachability(session, contact.id),
        templates=template_choices(config.templates, contact) if config else [],
        numbers=[n.phone for n in config.numbers] if config else [],
        open_conversations=open_conversations_of(session, contact.id),
    )
