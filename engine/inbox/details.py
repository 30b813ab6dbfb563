"""The details a workspace declares for conversations and business objects (workspace.yaml
`fields:`), as staff see and fill them in: typed inputs, values parsed by type, refused with
the field's name when they do not fit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.core.config import CustomField, FieldType, WorkspaceConfig
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import InvalidInput
from engine.inbox.lookup import conversation_for

_TRUE = {"1", "true", "yes", "on", "ndiyo"}
_FALSE = {"0", "false", "no", "off", "hapana"}


@dataclass(frozen=True)
class DetailField:
    """One declared field with its value as an input shows it."""

    name: str
    label: str
    type: str
    choices: tuple[str, ...]
    value: str


def declared(config: WorkspaceConfig, owner: str) -> dict[str, CustomField]:
    return {f.name: f for f in config.fields if f.owner == owner}


def details_of(
    fields: tuple[CustomField, ...], owner: str, values: Mapping[str, Any] | None
) -> list[DetailField]:
    given = values or {}
    return [
        DetailField(
            field.name,
            field.label or field.name.replace("_", " ").capitalize(),
            field.type.value,
            field.choices,
            _shown(field, given.get(field.name)),
        )
        for field in fields
        if field.owner == owner
    ]


def _shown(field: CustomField, value: Any) -> str:
    if value is None:
        return ""
    if field.type == FieldType.LIST and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if field.type == FieldType.BOOL:
        return "true" if value is True else "false" if value is False else str(value)
    if field.type == FieldType.DATETIME and isinstance(value, str) and len(value) >= 16:
        return value[:16]  # what <input type="datetime-local"> takes
    return str(value)


def parse(field: CustomField, text: str | None) -> Any:
    """The value to store for what a person typed; None clears the field."""
    raw = (text or "").strip()
    if not raw:
        return None
    what = f"{field.owner} {field.name.replace('_', ' ')}"
    match field.type:
        case FieldType.NUMBER | FieldType.MONEY:
            try:
                number = Decimal(raw.replace(",", ""))
            except InvalidOperation:
                raise InvalidInput(f"{what}: {raw!r} is not a number") from None
            if not number.is_finite():
                raise InvalidInput(f"{what}: {raw!r} is not a number")
            return int(number) if number == number.to_integral_value() else str(number)
        case FieldType.BOOL:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise InvalidInput(f"{what}: say yes or no")
        case FieldType.DATE:
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise InvalidInput(f"{what}: {raw!r} is not a date (YYYY-MM-DD)") from None
        case FieldType.DATETIME:
            try:
                return datetime.fromisoformat(raw).isoformat()
            except ValueError:
                raise InvalidInput(f"{what}: {raw!r} is not a date and time") from None
        case FieldType.CHOICE:
            if raw not in field.choices:
                raise InvalidInput(f"{what}: choose one of {', '.join(field.choices)}")
            return raw
        case FieldType.LIST:
            return [part.strip() for part in raw.split(",") if part.strip()]
    return raw[:2000]


def parsed_values(config: WorkspaceConfig, owner: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for the declared fields given; an undeclared one is refused by name."""
    fields = declared(config, owner)
    out: dict[str, Any] = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            raise InvalidInput(
                f"{owner} has no field {name!r}: declare it under fields.{owner} in workspace.yaml"
            )
        out[name] = (
            value if not isinstance(value, str) and value is not None else parse(field, value)
        )
    return out


def set_conversation_details(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    values: Mapping[str, Any],
    now: datetime,
) -> None:
    """Fill in the conversation's declared details (the firm's service and estimated fee);
    only what changed reaches the rules and the audit."""
    conversation = conversation_for(
        desk.session, principal, conversation_id, Action.WORK_CONVERSATION
    )
    current = conversation.fields or {}
    typed = parsed_values(desk.rules.config, "conversation", values)
    effects = [
        fx.SetField("", owner="conversation", field=name, value=value)
        for name, value in typed.items()
        if current.get(name) != value
    ]
    if effects:
        desk.change(conversation.id, actor_of(principal), effects, now)
