"""What an inbox service refuses with; pages and the API turn these into answers.

The desk (engine.automation.staff) refuses with the same three, so they are defined there."""

from __future__ import annotations

from engine.auth.policy import Forbidden
from engine.automation.refusals import Conflict, InvalidInput, NotFound

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFound"]
