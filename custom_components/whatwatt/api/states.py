"""What the model does not hold as such: derived values, enum states, an action's outcome.

No Home Assistant object: ``sensor.py`` and ``submeter.py`` describe their entities with these,
``device_control.py`` answers the action ``run_action`` with ``action_outcome``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from .models import ActionStatus, MeterInfo, Report, SystemInfo

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


def action_succeeded(status: ActionStatus) -> bool:
    """Return True for an HTTP 2xx answer or a Modbus success (code 1)."""
    return status.code == 1 or 200 <= status.code < 300


def action_outcome(
    action_id: str, ids: Collection[int], statuses: Iterable[ActionStatus]
) -> dict[str, Any]:
    """Return the final status of an action's requests ``ids`` and whether all succeeded."""
    requests = [
        {
            "id": status.status_id,
            "code": status.code,
            "exe_time": status.exe_time,
            "success": action_succeeded(status),
        }
        for status in statuses
        if status.status_id in ids
    ]
    return {
        "action_id": action_id,
        "success": all(request["success"] for request in requests),
        "requests": requests,
    }
