"""Diagnostics of the whatwatt Go integration, redacted.

What is redacted: ``docs/architecture.md``, "Diagnostics".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD

from .device_control import SECRET_KEYS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .coordinator import WhatwattConfigEntry

TO_REDACT: Final = {
    CONF_HOST,
    CONF_PASSWORD,
    "ssid",
    "bssid",
    "mac",
    "ip",
    "gateway",
    "dns",
    "mask",
    "meter_id",  # sub-meters (REST, template)
    "M_ID",  # sub-meters (live stream)
    *SECRET_KEYS,  # write-only on the device (it answers <key>_len), redacted should one appear
}
# Inside a meter block (system, report): its serial numbers. Their values are redacted wherever
# else they appear too (a meter may print its serial as its model).
METER_SERIALS: Final = frozenset({"id", "type", "logical_name", "serial"})
MIN_SERIAL: Final = 4  # shorter texts ("1", "P1") are no serial worth hiding, and too common
SERIAL_KEYS: Final = METER_SERIALS | {"meter_id", "M_ID"}


def _serials(meters: Iterable[Any], meter_ids: Iterable[str | None]) -> set[str]:
    """Return the serial numbers under their keys in meter blocks, and the sub-meters' ids."""
    found = [
        *meter_ids,
        *(meter.get(key) for meter in meters if isinstance(meter, Mapping) for key in SERIAL_KEYS),
    ]
    texts = {value.strip() for value in found if isinstance(value, str)}
    return {text for text in texts if len(text) >= MIN_SERIAL}


def _scrub(data: Any, serials: set[str]) -> Any:
    """Redact every text that contains one of ``serials``, under whatever key it stands."""
    if isinstance(data, Mapping):
        return {key: _scrub(value, serials) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_scrub(value, serials) for value in data]
    if isinstance(data, str) and any(serial in data for serial in serials):
        return REDACTED
    return data


def _redact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Redact secrets, network identity and meter serials."""
    result = async_redact_data(dict(data), TO_REDACT)
    meter = result.get("meter")
    if isinstance(meter, dict):
        result["meter"] = {
            key: REDACTED if key in METER_SERIALS and value else value
            for key, value in meter.items()
        }
    return result


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
    serials = _serials(meters, (volume.meter_id for volume in volumes))
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
    scrubbed: dict[str, Any] = _scrub(diagnostics, serials)
    return scrubbed
