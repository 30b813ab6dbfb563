"""Names the platform itself defines, which custom config may not redefine."""

from __future__ import annotations

# Kinds of business object every workspace has (DESIGN: "The customer record").
BUILTIN_OBJECT_KINDS: tuple[str, ...] = (
    "lead",
    "order",
    "booking",
    "support_case",
    "payment_request",
    "account",
)

# Fields every contact, conversation and business object has; a custom field with one
# of these names would make `contact.language` ambiguous, so the loader refuses it.
BUILTIN_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": (
        "name", "first_name", "phone", "email", "language", "tags", "company", "created_at",
    ),
    "conversation": (
        "status", "owner", "team", "priority", "pipeline", "stage", "tags", "number",
        "waiting_on", "opened_at", "last_inbound_at", "last_outbound_at",
    ),
    "object": (
        "kind", "reference", "status", "amount", "currency", "stage", "created_at",
    ),
}  # fmt: skip


def builtin_fields_of(owner: str) -> tuple[str, ...]:
    """The built-in field names of contact, conversation, or any object kind."""
    return BUILTIN_FIELDS.get(owner, BUILTIN_FIELDS["object"])
