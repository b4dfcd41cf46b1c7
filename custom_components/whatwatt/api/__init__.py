"""Client for the whatwatt Go smart-meter reader (aiohttp and the standard library only)."""

from __future__ import annotations

from .client import WhatwattClient, normalize_host
from .errors import (
    WhatwattAuthError,
    WhatwattBusyError,
    WhatwattConnectionError,
    WhatwattError,
    WhatwattInvalidResponseError,
    WhatwattLicenseError,
    WhatwattRequestError,
    WhatwattStreamBrokenError,
    WhatwattStreamClosedError,
    WhatwattTimeoutError,
    WhatwattUnavailableError,
)
from .live import LiveStream
from .models import (
    MEASUREMENT_KEYS,
    ActionStatus,
    MeterInfo,
    MqttSettings,
    Report,
    Settings,
    SystemInfo,
    Volume,
)
from .parse_device import (
    parse_action_status,
    parse_mqtt_settings,
    parse_settings,
    parse_system,
)
from .parse_live import parse_live_event
from .parse_mqtt import parse_mqtt_payload
from .parse_report import parse_report
from .parse_sdcard import SdCsvReader, SdFile, parse_sdcard_listing

__all__ = [
    "MEASUREMENT_KEYS",
    "ActionStatus",
    "LiveStream",
    "MeterInfo",
    "MqttSettings",
    "Report",
    "SdCsvReader",
    "SdFile",
    "Settings",
    "SystemInfo",
    "Volume",
    "WhatwattAuthError",
    "WhatwattBusyError",
    "WhatwattClient",
    "WhatwattConnectionError",
    "WhatwattError",
    "WhatwattInvalidResponseError",
    "WhatwattLicenseError",
    "WhatwattRequestError",
    "WhatwattStreamBrokenError",
    "WhatwattStreamClosedError",
    "WhatwattTimeoutError",
    "WhatwattUnavailableError",
    "normalize_host",
    "parse_action_status",
    "parse_live_event",
    "parse_mqtt_payload",
    "parse_mqtt_settings",
    "parse_report",
    "parse_sdcard_listing",
    "parse_settings",
    "parse_system",
]
