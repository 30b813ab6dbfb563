"""What the Cloud API refuses before sending: bad shapes, unknown templates, a closed window.

Shared by the simulator and the FakeSender, so both refuse exactly what the other
does (and what the real API does, as far as the reference tells).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.whatsapp.numbers import equivalent_wa_ids

SERVICE_WINDOW = timedelta(hours=24)
SEND_TYPES = frozenset(
    {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "template",
        "reaction",
    }
)


def wa_id_of(recipient: str) -> str:
    """The API takes `to` with or without "+" and spacing; the account id is the digits."""
    return "".join(ch for ch in recipient if ch.isdigit())


@dataclass(frozen=True)
class ApprovedTemplate:
    name: str
    languages: frozenset[str]
    body_parameters: int | None = None  # placeholders in the body; None: not checked


@dataclass(frozen=True)
class Refusal:
    code: int
    title: str
    details: str

    @property
    def is_window(self) -> bool:
        """The real API usually reports this one later, as a `failed` status."""
        return self.code == 131047


@dataclass
class SendPolicy:
    """The provider's rules. `templates=None` accepts any template name."""

    templates: dict[str, ApprovedTemplate] | None = None
    enforce_window: bool = True
    last_inbound: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def with_templates(cls, templates: Iterable[ApprovedTemplate], **options: Any) -> SendPolicy:
        return cls(templates={t.name: t for t in templates}, **options)

    def customer_wrote(self, wa_id: str, at: datetime) -> None:
        """A message from the customer opens (or extends) their 24-hour window."""
        previous = self.last_inbound.get(wa_id)
        if previous is None or at > previous:
            self.last_inbound[wa_id] = at

    def window_open(self, wa_id: str, now: datetime) -> bool:
        # WhatsApp reaches the account whichever number form is used (Brazil's ninth digit...).
        seen = [self.last_inbound[f] for f in equivalent_wa_ids(wa_id) if f in self.last_inbound]
        return bool(seen) and now - max(seen) < SERVICE_WINDOW

    def check(self, body: Any, now: datetime) -> Refusal | None:
        """Why the API would refuse this send body now, or None if it would take it."""
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return Refusal(100, "Invalid parameter", "messaging_product must be 'whatsapp'")
        to = body.get("to")
        if not isinstance(to, str) or not to:
            return Refusal(131008, "Required parameter is missing", "Parameter 'to' is required")
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            return Refusal(100, "Invalid parameter", f"Unsupported message type {kind!r}")
        # Every type's object is a mapping, except `contacts`: a list of cards.
        if not isinstance(body.get(kind), list if kind == "contacts" else dict):
            return Refusal(
                131008, "Required parameter is missing", f"Parameter '{kind}' is required"
            )
        if kind == "template":
            return self._check_template(body["template"])
        if self.enforce_window and not self.window_open(wa_id_of(to), now):
            return Refusal(
                131047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the "
                "customer last replied to this number.",
            )
        return None

    def _check_template(self, template: dict[str, Any]) -> Refusal | None:
        name = template.get("name")
        language = template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not isinstance(code, str):
            return Refusal(
                131008, "Required parameter is missing", "template name and language are required"
            )
        if self.templates is None:
            return None
        approved = self.templates.get(name)
        if approved is None or code not in approved.languages:
            return Refusal(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {code}",
            )
        if approved.body_parameters is not None:
            given = sum(
                len(c.get("parameters") or [])
                for c in template.get("components") or []
                if isinstance(c, dict) and c.get("type") == "body"
            )
            if given != approved.body_parameters:
                return Refusal(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"body: number of localizable_params ({given}) does not match the expected "
                    f"number of params ({approved.body_parameters})",
                )
        return None
