"""Replying to the customer: free text inside WhatsApp's 24-hour window, a template outside it.

The send itself is the outbox's job (engine.whatsapp.outbound): this writes the
queued message and its outbox row in the caller's transaction. Before that, it
checks whether another teammate replied since this one last looked, so two
people answering at once see each other ("Faith replied 4 s ago") and the
second must confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.automation.runner import Applied
from engine.automation.staff import Desk
from engine.core.config import Template
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.models import AuthorKind, Contact, Direction, Message, Task, Teammate
from engine.outbox.sends import OutsideWindow, retry_failed_message

MAX_TEXT = 4096  # WhatsApp's limit for a text message body
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


class ReplyRace(Conflict):
    """Someone else replied since this teammate last looked; send again with confirm."""

    def __init__(self, author: str, seconds_ago: int, message_id: int) -> None:
        super().__init__(f"{author} replied {seconds_ago} s ago. Send yours anyway?")
        self.author = author
        self.seconds_ago = seconds_ago
        self.message_id = message_id


def _check_race(
    session: Session,
    principal: Principal,
    conversation_id: int,
    seen_message_id: int | None,
    now: datetime,
) -> None:
    newer = select(Message).where(
        Message.conversation_id == conversation_id,
        Message.direction == Direction.OUTBOUND,
        Message.author_kind == AuthorKind.TEAMMATE,
    )
    if principal.teammate_id is not None:
        newer = newer.where(Message.author_teammate_id != principal.teammate_id)
    if seen_message_id is not None:
        newer = newer.where(Message.id > seen_message_id)
    latest = session.scalars(newer.order_by(Message.id.desc()).limit(1)).first()
    if latest is None:
        return
    sent_at = latest.provider_timestamp or latest.created_at
    if seen_message_id is None and (now - sent_at).total_seconds() > 120:
        return  # without a marker, only a reply in the last two minutes counts as a race
    author = session.get(Teammate, latest.author_teammate_id) if latest.author_teammate_id else None
    raise ReplyRace(
        author.name if author else "A teammate",
        max(0, int((now - sent_at).total_seconds())),
        latest.id,
    )


def reply_text(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    body: str,
    *,
    now: datetime,
    seen_message_id: int | None = None,
    confirmed: bool = False,
    reply_to_message_id: int | None = None,
) -> Message:
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    text = body.strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a WhatsApp message may have at most {MAX_TEXT} characters")
    if not confirmed:
        _check_race(session, principal, conversation.id, seen_message_id, now)
    effect = fx.SendText("", text=text, reply_to=reply_to_message_id)
    return _queued(desk, desk.change(conversation.id, actor_of(principal), [effect], now))


def _queued(desk: Desk, applied: Applied) -> Message:
    persisted = applied.persisted
    message = desk.session.get(Message, persisted.messages[0]) if persisted else None
    if message is None:
        raise InvalidInput("nothing was sent")  # the reducer queues every accepted send
    return message


@dataclass(frozen=True)
class TemplateChoice:
    """A template staff can pick, with its placeholders and suggested values."""

    name: str
    language: str
    category: str
    body: str
    positions: tuple[int, ...]
    suggestions: tuple[str, ...]
    variables: tuple[str, ...]  # what each placeholder means, e.g. "contact.first_name"

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"


def _first_name(contact: Contact | None) -> str:
    name = (contact.name or contact.profile_name or "") if contact else ""
    return name.split()[0] if name.split() else ""


def template_choices(
    templates: tuple[Template, ...], contact: Contact | None
) -> list[TemplateChoice]:
    choices = []
    for template in templates:
        positions = tuple(sorted({int(n) for n in PLACEHOLDER.findall(template.body)}))
        meaning = {v.position: v.value.text for v in template.variables if v.component == "body"}
        variables = tuple(meaning.get(p, "") for p in positions)
        suggestions = tuple(
            _first_name(contact) if variable == "contact.first_name" else ""
            for variable in variables
        )
        choices.append(
            TemplateChoice(
                name=template.name,
                language=template.language,
                category=template.category,
                body=template.body,
                positions=positions,
                suggestions=suggestions,
                variables=variables,
            )
        )
    return choices


def fill_template(body: str, parameters: list[str]) -> str:
    """The text the customer will read, for the preview and the history."""

    def value(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return parameters[index] if 0 <= index < len(parameters) else match.group(0)

    return PLACEHOLDER.sub(value, body)


def reply_template(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    *,
    name: str,
    language: str,
    parameters: list[str],
    now: datetime,
) -> Message:
    """Send an approved template, filled in by the person, from the config in force."""
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    templates = desk.rules.config.templates
    template = next((t for t in templates if t.name == name and t.language == language), None)
    if template is None:
        raise InvalidInput(f"no template {name!r} in language {language!r} in this workspace")
    positions = sorted({int(n) for n in PLACEHOLDER.findall(template.body)})
    values = [p.strip() for p in parameters]
    if len(values) != len(positions) or any(not v for v in values):
        raise InvalidInput(f"template {name!r} needs {len(positions)} filled value(s)")
    if any(len(v) > 1024 for v in values):
        raise InvalidInput("a template value may have at most 1024 characters")
    effect = fx.SendTemplate(
        "", template=template.name, language=template.language, variables=tuple(values)
    )
    return _queued(desk, desk.change(conversation.id, actor_of(principal), [effect], now))


def send_held(
    desk: Desk, principal: Principal, conversation_id: int, task_id: int, now: datetime
) -> Message:
    """Send a message a rule held for an empty value, now that staff filled it in on the
    record; its values are read again as the rule would read them. The task is then done."""
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    task = desk.session.get(Task, task_id)
    if task is None or task.conversation_id != conversation.id or not task.held_send:
        raise NotFound(f"no held message {task_id} on this conversation")
    if task.done_at is not None:
        raise Conflict("it was sent or dismissed already; reload to see it")
    held = task.held_send
    effect = fx.SendFromRecord(
        "", template=str(held.get("template", "")), language=str(held.get("language", ""))
    )
    message = _queued(desk, desk.change(conversation.id, actor_of(principal), [effect], now))
    task.done_at = now
    desk.session.flush()
    return message


def retry_message(
    session: Session, principal: Principal, message_id: int, now: datetime
) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    conversation_for(session, principal, message.conversation_id, Action.RETRY_MESSAGE)
    try:
        return retry_failed_message(session, message_id, now)
    except OutsideWindow as closed:
        raise Conflict(str(closed)) from None
    except (LookupError, ValueError) as refused:
        raise InvalidInput(str(refused)) from None
