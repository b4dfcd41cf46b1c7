"""Diagnostics of the whatwatt Go integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .coordinator import WhatwattConfigEntry

TO_REDACT = {
    CONF_HOST,
    CONF_PASSWORD,
    "ssid",
    "bssid",
    "mac",
    "ip",
    "gateway",
    "dns",
    "mask",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
) -> dict[str, Any]:
    """Return entry data, options, the latest raw report, system information, transport state."""
    coordinator = entry.runtime_data
    data = coordinator.data
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "state": {
            "last_update_success": coordinator.last_update_success,
            "meter_status": data.meter_status,
            "stale": data.stale,
            "measurements_available": data.measurements_available,
            "rejected": list(data.report.rejected) if data.report else [],
        },
        "report": async_redact_data(dict(data.report.raw), TO_REDACT) if data.report else None,
        "system": async_redact_data(dict(data.system.raw), TO_REDACT),
        "transport": async_redact_data(coordinator.transport.diagnostics(), TO_REDACT),
    }
