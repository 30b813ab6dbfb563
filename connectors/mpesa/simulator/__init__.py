"""A local Daraja for tests and the demo: `kazi simulate-mpesa`."""

from connectors.mpesa.simulator.app import create_app
from connectors.mpesa.simulator.world import (
    OUTCOMES,
    DarajaWorld,
    OutcomeError,
    SimulatorConfig,
    parse_faults,
)

__all__ = [
    "OUTCOMES",
    "DarajaWorld",
    "OutcomeError",
    "SimulatorConfig",
    "create_app",
    "parse_faults",
]
