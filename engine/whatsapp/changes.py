"""What a reaction, an edit or a revoke does to the message it is about (§5.8, §5.13).

None of them is a new timeline message and none fires "message received": a reaction
is shown under its message, an edit replaces the message's text and keeps the old one
in message_edits, a revoke marks the message deleted (hidden on the page, kept for the
audit). The customer's and the business's own (coexistence echoes) are treated alike;
only a customer's reaction is activity that keeps WhatsApp's window open.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.whatsapp.contents import read_content
from connectors.whatsapp.events import (
    EditContent,
    InboundMessage,
    ReactionContent,
    RevokeContent,
)
from engine.conversations.events import ConversationEvent
from engine.conversations.threads import lock_conversation
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.models import Message, MessageEdit, MessageReaction, Reactor
from engine.whatsapp.content import stored_content
from engine.whatsapp.unmatched import keep_unmatched

UNKNOWN_EDIT = "(edited in WhatsApp; WhatsApp did not pass the new text on to Kazi)"


def message_by_wamid(session: Session, provider_message_id: str | None) -> Message | None:
    if not provider_message_id:
        return None
    return session.scalars(
        select(Message).where(Message.provider_message_id == provider_message_id)
    ).first()


def apply_reaction(
    session: Session,
    item: InboundMessage,
    reaction: ReactionContent,
    inbound_event_id: int | None,
    now: datetime,
) -> list[ConversationEvent]:
    target = message_by_wamid(session, reaction.message_id)
    if target is None:
        keep_unmatched(
            session,
            item,
            target=reaction.message_id,
            kind="reaction",
            summary=reaction.emoji or "reaction removed",
            inbound_event_id=inbound_event_id,
            now=now,
        )
        return []
    conversation = lock_conversation(session, target.conversation)
    at = _instant(item.timestamp) or now
    reactor = Reactor.BUSINESS if item.is_echo else Reactor.CONTACT
    row = session.scalars(
        select(MessageReaction).where(
            MessageReaction.message_id == target.id, MessageReaction.reactor == reactor
        )
    ).first()
    emoji = reaction.emoji or None  # "" or a missing emoji: the reaction was removed
    if row is None:
        session.add(
            MessageReaction(
                message_id=target.id,
                reactor=reactor,
                emoji=emoji,
                reacted_at=at,
                provider_message_id=item.message_id or None,
            )
        )
    elif row.reacted_at <= at:  # a late, older reaction does not undo a newer one
        row.emoji, row.reacted_at, row.provider_message_id = emoji, at, item.message_id or None
    session.flush()
    if reactor != Reactor.CONTACT:
        return []
    event = DomainEvent(
        TriggerKind.REACTION_RECEIVED.value,
        f"reaction:{item.message_id}",
        at,
        data={"reaction": {"emoji": emoji or "", "message_id": target.id}},
    )
    return [ConversationEvent(conversation.id, event)]


def apply_edit(
    session: Session,
    item: InboundMessage,
    original_id: str | None,
    edit: EditContent | None,
    inbound_event_id: int | None,
    now: datetime,
) -> None:
    """An edit (`edit`, or `unsupported` with sub-type `edit` when `edit` is None: the new
    text is then unknown, and the message only shows that it was edited)."""
    target = message_by_wamid(session, original_id)
    if target is None:
        keep_unmatched(
            session,
            item,
            target=original_id,
            kind="edit",
            summary="edit",
            inbound_event_id=inbound_event_id,
            now=now,
        )
        return
    lock_conversation(session, target.conversation)
    if session.scalar(
        select(MessageEdit.id).where(MessageEdit.provider_message_id == item.message_id)
    ):
        return  # this edit is applied already
    at = _instant(item.timestamp) or now
    body, media, known = target.body, target.media, False
    new = edit.new_content if edit is not None else None
    if isinstance(new, dict):
        new_type = str(new.get("type") or target.type)
        content, _, _ = read_content(new_type, new)
        stored = stored_content(new_type, content)
        body, known = stored.body, True
        if stored.media:
            media = {**(target.media or {}), **stored.media}
    session.add(
        MessageEdit(
            message_id=target.id,
            previous_body=target.body,
            previous_media=target.media,
            body=body if known else None,
            text_known=known,
            edited_at=at,
            provider_message_id=item.message_id or f"edit:{target.id}:{at.isoformat()}",
        )
    )
    if target.edited_at is None or at >= target.edited_at:  # the newest edit wins
        target.edited_at = at
        if known:
            target.body, target.media = body, media
    session.flush()


def apply_revoke(
    session: Session,
    item: InboundMessage,
    revoke: RevokeContent,
    inbound_event_id: int | None,
    now: datetime,
) -> None:
    target = message_by_wamid(session, revoke.original_message_id)
    if target is None:
        keep_unmatched(
            session,
            item,
            target=revoke.original_message_id,
            kind="revoke",
            summary="deleted",
            inbound_event_id=inbound_event_id,
            now=now,
        )
        return
    lock_conversation(session, target.conversation)
    if target.deleted_at is None:
        target.deleted_at = _instant(item.timestamp) or now
    session.flush()


def _instant(epoch_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None
