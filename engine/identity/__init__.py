"""Who is who: phone numbers normalised, a contact's addresses over time."""

from engine.identity.history import (
    change_address,
    find_contact,
    find_current_identity,
    identify,
    normalise_address,
)
from engine.identity.phones import to_e164

__all__ = [
    "change_address",
    "find_contact",
    "find_current_identity",
    "identify",
    "normalise_address",
    "to_e164",
]
