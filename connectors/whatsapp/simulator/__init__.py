"""A local stand-in for the WhatsApp Cloud API: send endpoint, signed webhooks, faults."""

from connectors.whatsapp.simulator.app import create_app
from connectors.whatsapp.simulator.faults import Faults, FaultSpecError, parse_faults
from connectors.whatsapp.simulator.script import DEMO_SCRIPT, Script, ScriptError, load_script
from connectors.whatsapp.simulator.server import ServerThread, serve
from connectors.whatsapp.simulator.world import Simulator, SimulatorConfig

__all__ = [
    "DEMO_SCRIPT",
    "FaultSpecError",
    "Faults",
    "Script",
    "ScriptError",
    "ServerThread",
    "Simulator",
    "SimulatorConfig",
    "create_app",
    "load_script",
    "parse_faults",
    "serve",
]
