"""Diagnostics of the whatwatt Go integration, redacted (``docs/architecture.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD

from .api.redact import REDACTED_KEYS, meter_serials, redact_meter_block, scrub

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from .coordinator import WhatwattConfigEntry

TO_REDACT: Final = {CONF_HOST, CONF_PASSWORD, *REDACTED_KEYS}


def _redact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Redact secrets, network identity and meter serials."""
    return redact_meter_block(async_redact_data(dict(data), TO_REDACT), REDACTED)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001
    entry: WhatwattConfigEntry,
) -> dict[str, Any]:
    """Return entry data and options, the latest reading, the device state, the push source."""
    runtime = entry.runtime_data
    device, measurements = runtime.device, runtime.measurements
    report, state = measurements.data, device.data
    meters = (state.system.raw.get("meter"), report.raw.get("meter") if report else None)
    volumes = (report.volumes or {}).values() if report else ()
    serials = meter_serials(meters, (volume.meter_id for volume in volumes))
    diagnostics = {
        "entry": {"data": _redact(entry.data), "options": dict(entry.options)},
        "device": {
            "last_update_success": device.last_update_success,
            "system": _redact(state.system.raw),
            "settings": _redact(state.settings.raw) if state.settings else None,
        },
        "measurements": {
            "last_update_success": measurements.last_update_success,
            "fresh": measurements.fresh,
            "measurements_available": measurements.measurements_available,
            "meter_status": measurements.meter_status,
            "fallback_active": measurements.fallback_active,
            "interval": measurements.interval,
            "rejected": list(report.rejected) if report else [],
            "report": _redact(report.raw) if report else None,
        },
        "source": _redact(runtime.source.diagnostics()) if runtime.source else None,
    }
    scrubbed: dict[str, Any] = scrub(diagnostics, serials, REDACTED)
    return scrubbed
