"""A standalone simulator of the whatwatt Go smart-meter reader (aiohttp + stdlib only)."""

from .config import SimulatorConfig
from .faults import Faults
from .glitch import EnergyGlitch
from .server import RequestRecord, Simulator
from .state import DeviceState

__all__ = ["DeviceState", "EnergyGlitch", "Faults", "RequestRecord", "Simulator", "SimulatorConfig"]
