"""Staff send buttons, a list, a location, a contact card or a reaction from the reply box
or the API. The same reducer as a rule's send checks WhatsApp's limits and the 24-hour
window, and refuses with the reason; the outbox sends it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.core.rich import KINDS, Choice, RichMessage, Section, problem
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import InvalidInput
from engine.inbox.lookup import conversation_for
from engine.inbox.replies import _check_race, _queued
from engine.models import Direction, Message


def send_rich(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    message: RichMessage,
    *,
    now: datetime,
    seen_message_id: int | None = None,
    confirmed: bool = False,
) -> Message:
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    if message.kind == "reaction":
        message = _with_target(desk, conversation.id, message)
    why = problem(message)
    if why is not None:
        raise InvalidInput(why)
    if not confirmed and message.kind != "reaction":
        _check_race(session, principal, conversation.id, seen_message_id, now)
    effect = fx.SendRich("", message=message)
    return _queued(desk, desk.change(conversation.id, actor_of(principal), [effect], now))


def _with_target(desk: Desk, conversation_id: int, message: RichMessage) -> RichMessage:
    """A reaction is for the message named, else the customer's latest; it must have
    reached WhatsApp (have a WhatsApp id) to be reacted to."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if message.react_to is not None:
        query = query.where(Message.id == message.react_to)
    else:
        query = query.where(Message.direction == Direction.INBOUND).order_by(Message.id.desc())
    target = desk.session.scalars(query.limit(1)).first()
    if target is None:
        raise InvalidInput("there is no message in this conversation to react to")
    if not target.provider_message_id:
        raise InvalidInput("that message has not reached WhatsApp yet; react once it has")
    return RichMessage("reaction", emoji=message.emoji, react_to=target.id)


def rich_from_form(form: Mapping[str, str]) -> RichMessage:
    """The reply box's form: `kind`, `body`, `choices` (one per line; for a list, a line
    ending in ':' starts a section, and `title | description` adds a description),
    `list_button`, `latitude`, `longitude`, `place`, `address`, `contact_name`,
    `contact_phone`, `emoji`, `react_to`."""
    kind = form.get("kind", "").strip()
    if kind not in KINDS:
        raise InvalidInput(f"choose what to send: {', '.join(KINDS)}")
    body = form.get("body", "").strip()
    lines = [line.strip() for line in form.get("choices", "").splitlines() if line.strip()]
    if kind == "buttons":
        return RichMessage("buttons", body, buttons=tuple(Choice(line) for line in lines))
    if kind == "list":
        sections: list[tuple[str, list[Choice]]] = []
        for line in lines:
            if line.endswith(":"):
                sections.append((line[:-1].strip(), []))
                continue
            if not sections:
                sections.append(("", []))
            title, _, description = (part.strip() for part in line.partition("|"))
            sections[-1][1].append(Choice(title, description=description or None))
        return RichMessage(
            "list",
            body,
            list_button=form.get("list_button", "").strip(),
            sections=tuple(Section(title, tuple(rows)) for title, rows in sections),
        )
    if kind == "location":
        return RichMessage(
            "location",
            latitude=_number(form.get("latitude"), "latitude"),
            longitude=_number(form.get("longitude"), "longitude"),
            place=form.get("place", "").strip() or None,
            address=form.get("address", "").strip() or None,
        )
    if kind == "contact":
        return RichMessage(
            "contact",
            contact_name=form.get("contact_name", "").strip(),
            contact_phone=form.get("contact_phone", "").strip(),
        )
    react_to = form.get("react_to", "").strip()
    return RichMessage(
        "reaction",
        emoji=form.get("emoji", "").strip(),
        react_to=int(react_to) if react_to.isdigit() else None,
    )


def rich_from_json(data: Mapping[str, Any]) -> RichMessage:
    """The API's body: {"kind": "buttons", "body": "...", "buttons": ["Yes", "No"]}, or a
    list with "button" and "sections": [{"title", "rows": [{"title", "id", "description"}]}],
    a location, a contact ("name", "phone"), a reaction ("emoji", "message_id")."""
    kind = str(data.get("kind", ""))
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    body = str(data.get("body") or "")
    try:
        if kind == "buttons":
            return RichMessage("buttons", body, buttons=tuple(_choice(b) for b in data["buttons"]))
        if kind == "list":
            return RichMessage(
                "list",
                body,
                list_button=str(data.get("button") or ""),
                sections=tuple(
                    Section(str(s.get("title") or ""), tuple(_choice(r) for r in s["rows"]))
                    for s in data["sections"]
                ),
            )
        if kind == "location":
            return RichMessage(
                "location",
                latitude=_number(data.get("latitude"), "latitude"),
                longitude=_number(data.get("longitude"), "longitude"),
                place=data.get("name"),
                address=data.get("address"),
            )
        if kind == "contact":
            return RichMessage(
                "contact",
                contact_name=str(data.get("name") or ""),
                contact_phone=str(data.get("phone") or ""),
            )
        target = data.get("message_id")
        return RichMessage(
            "reaction",
            emoji=str(data.get("emoji") or ""),
            react_to=int(target) if target is not None else None,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise InvalidInput(f"a {kind} message is not written that way: {error}") from None


def _choice(value: Any) -> Choice:
    if isinstance(value, str):
        return Choice(value)
    return Choice(str(value["title"]), str(value.get("id") or ""), value.get("description") or None)


def _number(value: Any, what: str) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"the {what} must be a number such as -1.2864") from None
