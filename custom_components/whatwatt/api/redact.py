"""What must not leave the integration: the device's secrets and the meter's serial numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

# Keys whose values are secrets, wherever they appear in a settings object.
SECRET_KEYS: Final = frozenset(
    {"password", "key", "key_password", "encryption_key", "authentication_key"}
)
_LENGTH_SUFFIX: Final = "_len"
# Inside a meter block (system, report): its serial numbers.
METER_SERIALS: Final = frozenset({"id", "type", "logical_name", "serial"})
MIN_SERIAL: Final = 4  # shorter texts ("1", "P1") are no serial worth hiding, and too common
SUBMETER_IDS: Final = frozenset({"meter_id", "M_ID"})  # REST and template; live stream
# The Wi-Fi and network identity in the system information.
NETWORK_KEYS: Final = frozenset({"ssid", "bssid", "mac", "ip", "gateway", "dns", "mask"})
# What diagnostics redact by key (a secret is write-only on the device: redacted should one appear).
REDACTED_KEYS: Final = NETWORK_KEYS | SUBMETER_IDS | SECRET_KEYS


def without_secrets(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a settings object with secret values dropped and ``<x>_len`` as ``<x>_set``."""
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECRET_KEYS:
            continue
        if key.endswith(_LENGTH_SUFFIX) and key.removesuffix(_LENGTH_SUFFIX) in SECRET_KEYS:
            result[f"{key.removesuffix(_LENGTH_SUFFIX)}_set"] = bool(value)
        elif isinstance(value, Mapping):
            result[key] = without_secrets(value)
        else:
            result[key] = value
    return result


def meter_serials(meters: Iterable[Any], meter_ids: Iterable[str | None]) -> set[str]:
    """Return the serial numbers under their keys in meter blocks, and the sub-meters' ids."""
    keys = METER_SERIALS | SUBMETER_IDS
    found = [
        *meter_ids,
        *(meter.get(key) for meter in meters if isinstance(meter, Mapping) for key in keys),
    ]
    texts = {value.strip() for value in found if isinstance(value, str)}
    return {text for text in texts if len(text) >= MIN_SERIAL}


def redact_meter_block(data: dict[str, Any], replacement: str) -> dict[str, Any]:
    """Return ``data`` with the serial numbers of its meter block (if any) replaced."""
    meter = data.get("meter")
    if isinstance(meter, dict):
        data["meter"] = {
            key: replacement if key in METER_SERIALS and value else value
            for key, value in meter.items()
        }
    return data


def scrub(data: Any, serials: set[str], replacement: str) -> Any:
    """Replace every text that contains one of ``serials``, under whatever key it stands."""
    if isinstance(data, Mapping):
        return {key: scrub(value, serials, replacement) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [scrub(value, serials, replacement) for value in data]
    if isinstance(data, str) and any(serial in data for serial in serials):
        return replacement
    return data
