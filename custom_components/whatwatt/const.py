"""Constants of the whatwatt Go integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

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
