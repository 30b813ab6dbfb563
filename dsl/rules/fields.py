"""What a rule can read: the roots (conversation, contact, message...) and their typed fields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.core.config import FieldType, WorkspaceConfig


class Type(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOL = "true/false"
    DATETIME = "date-time"
    DURATION = "duration"
    LIST = "list"
    ANY = "any"


@dataclass(frozen=True)
class FieldInfo:
    type: Type
    choices: tuple[str, ...] = ()
    settable: bool = False
    refers_to: str | None = (
        None  # "stage" | "pipeline" | "team" | "teammate": values checked by name
    )


CONVERSATION_STATUSES = ("open", "waiting_on_us", "waiting_on_customer", "snoozed", "resolved")
PRIORITIES = ("low", "normal", "high", "urgent")

_BUILTIN: dict[str, dict[str, FieldInfo]] = {
    "conversation": {
        "status": FieldInfo(Type.TEXT, CONVERSATION_STATUSES, settable=True),
        "priority": FieldInfo(Type.TEXT, PRIORITIES, settable=True),
        "owner": FieldInfo(Type.TEXT, refers_to="teammate"),
        "team": FieldInfo(Type.TEXT, refers_to="team"),
        "pipeline": FieldInfo(Type.TEXT, refers_to="pipeline"),
        "stage": FieldInfo(Type.TEXT, refers_to="stage"),
        "tags": FieldInfo(Type.LIST),
        "channel": FieldInfo(Type.TEXT),
        "number": FieldInfo(Type.TEXT),
        "language": FieldInfo(Type.TEXT, settable=True),
        "waiting_on": FieldInfo(Type.TEXT, ("us", "customer")),
        "opened_at": FieldInfo(Type.DATETIME),
        "last_inbound_at": FieldInfo(Type.DATETIME),
        "last_outbound_at": FieldInfo(Type.DATETIME),
        "messages": FieldInfo(Type.NUMBER),
    },
    "contact": {
        "name": FieldInfo(Type.TEXT, settable=True),
        "first_name": FieldInfo(Type.TEXT),
        "phone": FieldInfo(Type.TEXT),
        "email": FieldInfo(Type.TEXT, settable=True),
        "language": FieldInfo(Type.TEXT, settable=True),
        "company": FieldInfo(Type.TEXT, settable=True),
        "tags": FieldInfo(Type.LIST),
        "created_at": FieldInfo(Type.DATETIME),
        "opted_out": FieldInfo(Type.BOOL),
        "conversations": FieldInfo(Type.NUMBER),
    },
    "message": {
        "text": FieldInfo(Type.TEXT),
        "type": FieldInfo(
            Type.TEXT,
            (
                "text",
                "image",
                "document",
                "audio",
                "video",
                "location",
                "sticker",
                "button",
                "interactive",
                "contacts",
                "reaction",
            ),
        ),
        "caption": FieldInfo(Type.TEXT),
        "button": FieldInfo(Type.TEXT),
        "payload": FieldInfo(Type.TEXT),
        "file_name": FieldInfo(Type.TEXT),
        "sent_at": FieldInfo(Type.DATETIME),
    },
    "inquiry": {
        "intent": FieldInfo(Type.TEXT),
        "label": FieldInfo(Type.TEXT),
        "confidence": FieldInfo(Type.NUMBER),
        "source": FieldInfo(Type.TEXT),
        "text": FieldInfo(Type.TEXT),
    },
    "payment": {
        "amount": FieldInfo(Type.NUMBER),
        "currency": FieldInfo(Type.TEXT),
        "reference": FieldInfo(Type.TEXT),
        "status": FieldInfo(
            Type.TEXT, ("requested", "pending", "confirmed", "failed", "cancelled")
        ),
        "method": FieldInfo(Type.TEXT),
        "phone": FieldInfo(Type.TEXT),
        "receipt": FieldInfo(Type.TEXT),
        "failure": FieldInfo(Type.TEXT),
        "expected_amount": FieldInfo(Type.NUMBER),
    },
    "task": {
        "title": FieldInfo(Type.TEXT),
        "assignee": FieldInfo(Type.TEXT, refers_to="teammate"),
        "due_at": FieldInfo(Type.DATETIME),
        "done": FieldInfo(Type.BOOL),
    },
    "sla": {
        "policy": FieldInfo(Type.TEXT),
        "kind": FieldInfo(Type.TEXT, ("first_response", "next_response", "resolution")),
        "due_at": FieldInfo(Type.DATETIME),
    },
}

_OBJECT_FIELDS: dict[str, FieldInfo] = {
    "kind": FieldInfo(Type.TEXT),
    "stage": FieldInfo(Type.TEXT, refers_to="stage"),
    "reference": FieldInfo(Type.TEXT),
    "status": FieldInfo(Type.TEXT, settable=True),
    "amount": FieldInfo(Type.NUMBER, settable=True),
    "currency": FieldInfo(Type.TEXT),
    "created_at": FieldInfo(Type.DATETIME),
    # The lines staff fill in: "2 x Phone case @ 500; 1 x Charger @ 1,200", and their count.
    "items": FieldInfo(Type.TEXT),
    "item_count": FieldInfo(Type.NUMBER),
}

DEFAULT_OBJECT_KINDS = ("lead", "order", "booking", "support_case", "payment_request", "account")

# Which roots each trigger supplies beyond conversation, contact and business objects.
EVENT_ROOTS: dict[str, str] = {
    "message_received": "message",
    "payment_confirmed": "payment",
    "payment_failed": "payment",
    "task_due": "task",
    "sla_warning": "sla",
    "sla_breached": "sla",
    "integration_event": "event",
    "inquiry_classified": "inquiry",
}
ALWAYS_ROOTS = ("conversation", "contact")

_CUSTOM_TYPES = {
    FieldType.TEXT: Type.TEXT,
    FieldType.NUMBER: Type.NUMBER,
    FieldType.MONEY: Type.NUMBER,
    FieldType.BOOL: Type.BOOL,
    FieldType.DATE: Type.DATETIME,
    FieldType.DATETIME: Type.DATETIME,
    FieldType.CHOICE: Type.TEXT,
    FieldType.LIST: Type.LIST,
}


@dataclass(frozen=True)
class Catalog:
    """Every root and field a workspace's expressions may name."""

    roots: dict[str, dict[str, FieldInfo]]
    object_kinds: tuple[str, ...]

    @classmethod
    def for_config(cls, config: WorkspaceConfig | None) -> Catalog:
        roots = {name: dict(fields) for name, fields in _BUILTIN.items()}
        kinds = list(DEFAULT_OBJECT_KINDS)
        if config is not None:
            kinds += [k for k in config.object_kinds if k not in kinds]
            for pipeline in config.pipelines:
                if pipeline.subject != "conversation" and pipeline.subject not in kinds:
                    kinds.append(pipeline.subject)
            for custom in config.fields:
                if custom.owner not in roots and custom.owner not in kinds:
                    kinds.append(custom.owner)
        for kind in kinds:
            roots.setdefault(kind, dict(_OBJECT_FIELDS))
        if config is not None:
            for custom in config.fields:
                roots[custom.owner][custom.name] = FieldInfo(
                    _CUSTOM_TYPES[custom.type], tuple(custom.choices), settable=True
                )
        return cls(roots, tuple(kinds))

    def lookup(self, parts: tuple[str, ...]) -> FieldInfo | None:
        if parts[0] == "event":
            return FieldInfo(Type.ANY)
        fields = self.roots.get(parts[0])
        if fields is None or len(parts) != 2:
            return None
        return fields.get(parts[1])
