"""What this installation can carry out: the executors the composition root wires.

Config folders are compiled against it, so a rule asking for something no
executor here can do is refused at load with its position (E126), not failed at
run time. tests/runtime/test_installed.py holds it against engine.composition.
"""

from __future__ import annotations

from engine.core.capabilities import Capabilities

INSTALLED = Capabilities(
    sends=True,
    integration_calls=frozenset({"webhook"}),
    payment_providers=frozenset({"mpesa"}),  # engine/payments/request.py
)
