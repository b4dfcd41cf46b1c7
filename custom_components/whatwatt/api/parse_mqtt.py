"""Parser for MQTT payloads: the integration's own template and the vendor's flat template."""

from __future__ import annotations

from datetime import UTC
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from .errors import WhatwattInvalidResponseError
from .models import MeterInfo, Report, Volume
from .parse_common import (
    ValueCollector,
    as_device_id,
    as_text,
    decode_object,
    parse_iso_time,
    ranged,
    unix_time,
)
from .parse_live import LIVE_KEYS
from .parse_volume import LIVE_VOLUME_KEYS, parse_volumes
from .template import (
    KEY_DEVICE_ID,
    KEY_METER_INTERFACE,
    KEY_METER_STATUS,
    KEY_TARIFF,
    KEY_TIME_UTC,
    KEY_TIMESTAMP,
    KEY_VOLUMES,
    MARKER_KEY,
    OWN_KEY_TO_MEASUREMENT,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import tzinfo

# The vendor's flat MQTT template (every value a quoted string, "null" when missing).
VENDOR_KEYS: Final[dict[str, str]] = {
    "power_in": "power_import",
    "power_in_l1": "power_import_l1",
    "power_in_l2": "power_import_l2",
    "power_in_l3": "power_import_l3",
    "power_out": "power_export",
    "power_out_l1": "power_export_l1",
    "power_out_l2": "power_export_l2",
    "power_out_l3": "power_export_l3",
    "reactive_power_in": "reactive_power_import",
    "reactive_power_out": "reactive_power_export",
    "apparent_power": "apparent_power",
    "power_factor": "power_factor",
    "voltage_l1": "voltage_l1",
    "voltage_l2": "voltage_l2",
    "voltage_l3": "voltage_l3",
    "current_l1": "current_l1",
    "current_l2": "current_l2",
    "current_l3": "current_l3",
    "energy_in": "energy_import",
    "energy_in_t1": "energy_import_t1",
    "energy_in_t2": "energy_import_t2",
    "energy_out": "energy_export",
    "energy_out_t1": "energy_export_t1",
    "energy_out_t2": "energy_export_t2",
    "reactive_energy_in": "reactive_energy_import",
    "reactive_energy_out": "reactive_energy_export",
}
_OWN_RANGED: Final = ranged(OWN_KEY_TO_MEASUREMENT)
_VENDOR_RANGED: Final = ranged(VENDOR_KEYS)


def parse_mqtt_payload(payload: str | bytes, *, tz: tzinfo | None = None) -> Report:
    """Parse an MQTT message: the integration's own template or the vendor's flat template.

    The own template is recognised by its marker key (``template.MARKER_KEY``); anything else is
    read as the vendor template (``sys_id``, ``time`` in UNIX seconds, ``power_in`` ...). ``tz`` is
    accepted for symmetry; both templates carry UTC times.
    """
    del tz  # both templates carry UTC or UNIX time
    data = decode_object(payload, repair=True)
    if MARKER_KEY in data:
        return _parse_own_payload(data)
    return _parse_vendor_payload(data)


def _parse_own_payload(data: dict[str, Any]) -> Report:
    """Read the integration's own template (short keys, see ``template``)."""
    collect = ValueCollector()
    collect.measure_all(data, _OWN_RANGED)
    tariff = collect.tariff(KEY_TARIFF, data.get(KEY_TARIFF))
    timestamp = parse_iso_time(data.get(KEY_TIME_UTC))
    if timestamp is None:
        timestamp = unix_time(data.get(KEY_TIMESTAMP))
    status = collect.text(KEY_METER_STATUS, data.get(KEY_METER_STATUS))
    interface = as_text(data.get(KEY_METER_INTERFACE))
    return Report(
        values=collect.values,
        device_id=as_device_id(data.get(KEY_DEVICE_ID)),
        tariff=tariff,
        timestamp=timestamp,
        meter=_own_meter(status, interface, tariff) if status or interface else None,
        volumes=_volumes(data, collect),
        rejected=tuple(collect.rejected),
        raw=data,
    )


@lru_cache(maxsize=32)
def _own_meter(status: str | None, interface: str | None, tariff: int | None) -> MeterInfo:
    """Return the own template's meter block, shared while it stays the same (it is frozen)."""
    return MeterInfo(status=status, interface=interface, tariff=tariff)


def _parse_vendor_payload(data: dict[str, Any]) -> Report:
    """Read the vendor's flat template.

    User templates that borrow the live-stream key names (``P_In``, ``E_In`` ...) are understood
    too, and ``time`` may also be ISO-8601 with an offset.
    """
    collect = ValueCollector()
    collect.measure_all(data, _VENDOR_RANGED)
    for key, measurement in LIVE_KEYS.items():
        if measurement not in collect.values and key in data:
            collect.measure(key, measurement, data[key])
    tariff = collect.tariff("tariff", data.get("tariff"))
    meter_id = as_text(data.get("meter_id"))
    timestamp = unix_time(data.get("time"))
    if timestamp is None:
        timestamp = parse_iso_time(data.get("time"))
    return Report(
        values=collect.values,
        device_id=as_device_id(data.get("sys_id")),
        tariff=tariff,
        timestamp=timestamp,
        meter=MeterInfo(meter_id=meter_id, tariff=tariff) if meter_id else None,
        volumes=_volumes(data, collect),
        rejected=tuple(collect.rejected),
        raw=data,
    )


def _volumes(data: dict[str, Any], collect: ValueCollector) -> Mapping[int, Volume] | None:
    """Read the sub-meters (``Vol``, the template's ``vol[n]`` in UTC); None: no such field.

    The vendor's flat template has no sub-meter fields; a user template may borrow the live
    stream's ``Vol``.
    """
    if KEY_VOLUMES not in data:
        return None
    return parse_volumes(
        data[KEY_VOLUMES], LIVE_VOLUME_KEYS, tz=UTC, collect=collect, wire=KEY_VOLUMES
    )


def first_report(payload: str | bytes | bytearray, device_id: str | None) -> Report | None:
    """Return a message's reading if it can be the first of ``device_id`` (None: any device).

    With the device id known, the message must carry that id or none; without it, the message
    must carry an id (that is what the set-up learns). An unparsable message is none.
    """
    try:
        report = parse_mqtt_payload(bytes(payload) if isinstance(payload, bytearray) else payload)
    except WhatwattInvalidResponseError:
        return None
    if device_id is None:
        return report if report.device_id is not None else None
    return report if report.device_id in (None, device_id) else None
