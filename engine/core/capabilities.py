"""What this installation can carry out, so that a config asking for more is refused at load.

A rule action that ends in the outbox needs an executor when it runs; checking
for it only then would turn a config mistake into a failure hours later, in
front of a customer. The composition root says what it has wired; the config
compiler refuses actions outside it, with their position.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    sends: bool = True  # WhatsApp sends (`send template`, `send text`)
    integration_calls: frozenset[str] = frozenset()  # integration kinds `call integration` reaches
    payment_providers: frozenset[str] = frozenset()  # integration kinds `request payment` uses


EVERYTHING = Capabilities(
    sends=True,
    integration_calls=frozenset({"webhook"}),
    payment_providers=frozenset({"mpesa"}),
)
"""For checking a config's language alone (tests of the checker, the builder's drafts)."""
