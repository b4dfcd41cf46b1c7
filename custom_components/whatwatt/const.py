"""Constants of the whatwatt Go integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigEntry

DOMAIN: Final = "whatwatt"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "whatwatt"
DEFAULT_NAME: Final = "whatwatt Go"

CONF_TRANSPORT: Final = "transport"
TRANSPORT_REST: Final = "rest"
TRANSPORT_MQTT: Final = "mqtt"
TRANSPORT_LIVE: Final = "live"
TRANSPORTS: Final = (TRANSPORT_REST, TRANSPORT_MQTT, TRANSPORT_LIVE)

CONF_TOPIC: Final = "topic"
CONF_SCAN_INTERVAL: Final = "scan_interval"
DEFAULT_SCAN_INTERVAL: Final = 10
MIN_SCAN_INTERVAL: Final = 2
MAX_SCAN_INTERVAL: Final = 300
# Peak demand (``demand.py``): window length in minutes (15, 60) and how many peaks average.
CONF_DEMAND_WINDOW: Final = "demand_window"
CONF_DEMAND_PEAKS: Final = "demand_peaks"

# While the device refuses the stored password (re-authentication asked), it is tried again this
# often; the entry carries on by itself once it works (README: Troubleshooting).
AUTH_RETRY_INTERVAL: Final = timedelta(seconds=60)
# How often the device coordinator reads system information, settings and MQTT settings.
DEVICE_REFRESH_INTERVAL: Final = timedelta(minutes=5)
# Reporting interval assumed until the device tells its own (seconds).
DEFAULT_REPORT_INTERVAL: Final = 10.0
# No new reading (report counter, push) for this many reporting intervals: stale ...
STALE_INTERVALS: Final = 3
# ... but never before this many seconds (request latency, a late telegram).
MIN_STALE_SECONDS: Final = 30.0

METER_STATUS_OK: Final = "OK"


def device_title(name: str | None, device_id: str) -> str:
    """Return the name of a device: its own, else the default with the end of its id."""
    return name or f"{DEFAULT_NAME} {device_id[-6:]}"


def transport_of(entry: ConfigEntry) -> str:
    """Return the transport of an entry."""
    return str(entry.data.get(CONF_TRANSPORT, TRANSPORT_REST))


def options_for_transport(transport: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options an entry keeps with ``transport`` (the polling interval is REST's)."""
    kept = {key: value for key, value in options.items() if key != CONF_SCAN_INTERVAL}
    if transport == TRANSPORT_REST:
        kept[CONF_SCAN_INTERVAL] = options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
    return kept
