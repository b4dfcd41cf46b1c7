"""What the sensors show that the model does not hold as such: derived values and enum states.

No Home Assistant object: ``sensor.py`` and ``submeter.py`` describe their entities with these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .models import MeterInfo, Report, SystemInfo

METER_STATUS_OPTIONS: Final = [
    "not_connected",
    "no_data",
    "recognition",
    "ok",
    "encryption_key",
    "key_required",
    "not_recognized",
]
TARIFF_OPTIONS: Final = ["t1", "t2"]
MQTT_LINK_OPTIONS: Final = ["connected", "disconnected", "disabled"]


def net_power(report: Report) -> float | None:
    """Return import minus export (kW), None unless the reading has both."""
    imported, exported = report.values.get("power_import"), report.values.get("power_export")
    if imported is None or exported is None:
        return None
    return round(imported - exported, 6)


def tariff_option(report: Report) -> str | None:
    """Return the tariff in force as an enum option (None: unknown)."""
    return f"t{report.tariff}" if report.tariff in (1, 2) else None


def meter_status_option(status: str | None) -> str | None:
    """Return the enum option of a meter link status (None: unknown)."""
    option = (status or "").strip().lower().replace(" ", "_")
    return option if option in METER_STATUS_OPTIONS else None


def mqtt_link(system: SystemInfo) -> str | None:
    """Return the state of the device's MQTT client (``clouds.mqtc``) as an enum option."""
    if system.mqtt_enabled is False:
        return "disabled"
    if system.mqtt_connected is None:
        return None
    return "connected" if system.mqtt_connected else "disconnected"


def is_p1(meter: MeterInfo | None) -> bool:
    """Return True for a meter read over P1 or speaking DSMR."""
    if meter is None:
        return False
    return (meter.interface or "").upper() == "P1" or (meter.protocol or "").upper() == "DSMR"
