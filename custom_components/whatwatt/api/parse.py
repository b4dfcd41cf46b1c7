"""Parsers: one per wire shape of the whatwatt Go, each producing one model.

Every parser is a pure function. Only a top-level problem (not a JSON object, not JSON, not UTF-8,
larger than ``MAX_PAYLOAD_BYTES``, or a system document without ``device.id``) raises
``WhatwattInvalidResponseError``. A single unusable field (wrong type, NaN/infinity, ``"null"``, an
unrendered ``${...}`` placeholder, a nested object where a number belongs) is dropped and its wire
key listed in ``Report.rejected``; the rest of the reading stays valid. A JSON ``null`` counts as
"absent", not as rejected. Unknown keys are ignored.

Time zones: the device prints some times as local wall-clock time (the REST ``date_time`` with its
misleading trailing ``Z``, the live stream's ``Date``/``Time``, ``last_reboot``). Those are read in
the ``tz`` given by the caller (Home Assistant passes its configured zone); ``tz=None`` means UTC.
Every datetime returned is timezone-aware and converted to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
import json
import math
import re
from typing import Any, Final

from .errors import WhatwattInvalidResponseError
from .models import (
    ActionStatus,
    MeterInfo,
    MqttSettings,
    Report,
    Settings,
    SystemInfo,
)
from .template import (
    KEY_DEVICE_ID,
    KEY_METER_STATUS,
    KEY_TARIFF,
    KEY_TIME_UTC,
    KEY_TIMESTAMP,
    MARKER_KEY,
    OWN_KEY_TO_MEASUREMENT,
)

MAX_PAYLOAD_BYTES: Final = 64 * 1024

_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# An unrendered placeholder standing bare (unquoted) as a JSON value: `:${x}` / `,${x}` / `[${x}`.
_BARE_PLACEHOLDER_RE: Final = re.compile(r"(?<=[:,\[])(\s*)(\$\{[^}\"\\]*\})")

# --- measurement maps -----------------------------------------------------------------------

# REST report: path below "report" → measurement key (device README §8.1).
REPORT_PATHS: Final[dict[tuple[str, ...], str]] = {
    ("instantaneous_power", "active", "positive", "total"): "power_import",
    ("instantaneous_power", "active", "positive", "l1"): "power_import_l1",
    ("instantaneous_power", "active", "positive", "l2"): "power_import_l2",
    ("instantaneous_power", "active", "positive", "l3"): "power_import_l3",
    ("instantaneous_power", "active", "negative", "total"): "power_export",
    ("instantaneous_power", "active", "negative", "l1"): "power_export_l1",
    ("instantaneous_power", "active", "negative", "l2"): "power_export_l2",
    ("instantaneous_power", "active", "negative", "l3"): "power_export_l3",
    ("instantaneous_power", "reactive", "positive", "total"): "reactive_power_import",
    ("instantaneous_power", "reactive", "negative", "total"): "reactive_power_export",
    ("instantaneous_power", "apparent", "total"): "apparent_power",
    ("power_factor",): "power_factor",
    ("voltage", "l1"): "voltage_l1",
    ("voltage", "l2"): "voltage_l2",
    ("voltage", "l3"): "voltage_l3",
    ("current", "l1"): "current_l1",
    ("current", "l2"): "current_l2",
    ("current", "l3"): "current_l3",
    ("energy", "active", "positive", "total"): "energy_import",
    ("energy", "active", "positive", "t1"): "energy_import_t1",
    ("energy", "active", "positive", "t2"): "energy_import_t2",
    ("energy", "active", "negative", "total"): "energy_export",
    ("energy", "active", "negative", "t1"): "energy_export_t1",
    ("energy", "active", "negative", "t2"): "energy_export_t2",
    ("energy", "reactive", "positive", "total"): "reactive_energy_import",
    ("energy", "reactive", "negative", "total"): "reactive_energy_export",
    ("max_demand", "active", "positive", "total"): "max_demand_import",
    ("max_demand", "active", "negative", "total"): "max_demand_export",
}

# Live stream (SSE) flat keys → measurement key (device README §8.1, §9).
LIVE_KEYS: Final[dict[str, str]] = {
    "P_In": "power_import",
    "P_P1_In": "power_import_l1",
    "P_P2_In": "power_import_l2",
    "P_P3_In": "power_import_l3",
    "P_Out": "power_export",
    "P_P1_Out": "power_export_l1",
    "P_P2_Out": "power_export_l2",
    "P_P3_Out": "power_export_l3",
    "rP_In": "reactive_power_import",
    "rP_Out": "reactive_power_export",
    "PF": "power_factor",
    "V_P1": "voltage_l1",
    "V_P2": "voltage_l2",
    "V_P3": "voltage_l3",
    "I_P1": "current_l1",
    "I_P2": "current_l2",
    "I_P3": "current_l3",
    "E_In": "energy_import",
    "E_In_T1": "energy_import_t1",
    "E_In_T2": "energy_import_t2",
    "E_Out": "energy_export",
    "E_Out_T1": "energy_export_t1",
    "E_Out_T2": "energy_export_t2",
    "rE_In": "reactive_energy_import",
    "rE_Out": "reactive_energy_export",
    "P_P_In": "max_demand_import",
}

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


# --- coercion helpers -----------------------------------------------------------------------


class _RejectedValueError(ValueError):
    """A present value that cannot be used."""


def coerce_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None for JSON null.

    Accepts int, float and numeric strings (``"231.4"``, ``" 5 "``, ``"1e3"``). Raises
    ``ValueError`` for bool, NaN/infinity, ``"null"``, ``""``, ``"${...}"``, other text, and
    nested objects or arrays.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise _RejectedValueError("boolean is not a number")
    if isinstance(value, int):
        try:
            result = float(value)
        except OverflowError as err:
            raise _RejectedValueError("integer out of range") from err
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER_RE.fullmatch(text):
            raise _RejectedValueError(f"not a number: {value[:40]!r}")
        result = float(text)
    else:
        raise _RejectedValueError(f"unexpected {type(value).__name__}")
    if not math.isfinite(result):
        raise _RejectedValueError("not finite")
    return result


def _text(value: Any) -> str | None:
    """Return a usable non-empty string (placeholders and ``"null"`` excluded), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text == "null" or "${" in text:
        return None
    return text


def _bool(value: Any) -> bool | None:
    """Return a JSON boolean, else None."""
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    """Return an integral number as int (``5`` or ``5.0`` or ``"5"``), else None."""
    try:
        number = coerce_number(value)
    except ValueError:
        return None
    if number is None or not number.is_integer():
        return None
    return int(number)


def _float(value: Any) -> float | None:
    """Return a finite number, else None."""
    try:
        return coerce_number(value)
    except ValueError:
        return None


def _dig(data: Any, *path: str) -> Any:
    """Walk nested objects; None when any step is missing or not an object."""
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _obj(data: Any, *path: str) -> Mapping[str, Any]:
    """Return the object at ``path`` or an empty mapping."""
    found = _dig(data, *path)
    return found if isinstance(found, Mapping) else {}


def _device_id(value: Any) -> str | None:
    """Normalise a device id (upper case); None when unusable."""
    text = _text(value)
    return text.upper() if text else None


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def parse_iso_time(value: Any, *, local_tz: tzinfo | None = None) -> datetime | None:
    """Parse an ISO-8601 time into an aware UTC datetime.

    With ``local_tz`` the text is local wall-clock time: a trailing ``Z`` (the device's quirk) is
    ignored and the time is placed in ``local_tz``. Without it, the text must carry an offset
    or ``Z``. Returns None for anything unusable.
    """
    text = _text(value)
    if text is None:
        return None
    if local_tz is not None:
        text = text.removesuffix("Z").removesuffix("z")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if local_tz is not None:
        moment = moment.replace(tzinfo=local_tz)
    elif moment.tzinfo is None:
        return None
    return _as_utc(moment)


def _local_date_time(date: Any, time: Any, tz: tzinfo | None) -> datetime | None:
    """Combine a local ``YYYY-MM-DD`` and ``HH:MM:SS`` into an aware UTC datetime."""
    date_text, time_text = _text(date), _text(time)
    if date_text is None or time_text is None:
        return None
    try:
        moment = datetime.fromisoformat(f"{date_text}T{time_text}")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or UTC)
    return _as_utc(moment)


def _unix_time(value: Any) -> datetime | None:
    """Convert UNIX seconds (number or numeric string) to an aware UTC datetime."""
    number = _float(value)
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class _Values:
    """Collects measurements and the wire keys that had to be rejected."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.rejected: list[str] = []

    def number(self, wire_key: str, value: Any) -> float | None:
        """Coerce one value; remember the key when present but unusable."""
        try:
            return coerce_number(value)
        except ValueError:
            self.rejected.append(wire_key)
            return None

    def measure(self, wire_key: str, measurement: str, value: Any) -> None:
        """Store one measurement (absent → skipped, unusable → rejected)."""
        number = self.number(wire_key, value)
        if number is not None:
            self.values[measurement] = number

    def tariff(self, wire_key: str, value: Any) -> int | None:
        """Return tariff 1 or 2; 0/absent → None; anything else rejected."""
        number = self.number(wire_key, value)
        if number is None or number == 0:
            return None
        if number in (1, 2):
            return int(number)
        self.rejected.append(wire_key)
        return None

    def text(self, wire_key: str, value: Any) -> str | None:
        """Return usable text; a present but unusable value is rejected."""
        result = _text(value)
        if result is None and value is not None and value != "":
            self.rejected.append(wire_key)
        return result


# --- decoding of raw payloads ---------------------------------------------------------------


def _decode_object(payload: str | bytes, *, repair: bool = False) -> dict[str, Any]:
    """Decode a JSON object from text or UTF-8 bytes, enforcing the size limit."""
    if isinstance(payload, bytes | bytearray | memoryview):
        raw = bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise WhatwattInvalidResponseError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise WhatwattInvalidResponseError("payload is not UTF-8") from err
    elif isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise WhatwattInvalidResponseError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
        text = payload
    else:
        raise WhatwattInvalidResponseError(f"payload is {type(payload).__name__}, not text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        if not repair:
            raise WhatwattInvalidResponseError("payload is not JSON") from err
        # An unknown numeric placeholder is left bare by the device; quote it and retry.
        fixed = _BARE_PLACEHOLDER_RE.sub(r'\1"\2"', text)
        try:
            data = json.loads(fixed)
        except (ValueError, RecursionError) as err2:
            raise WhatwattInvalidResponseError("payload is not JSON") from err2
    if not isinstance(data, dict):
        raise WhatwattInvalidResponseError("payload is not a JSON object")
    return data


def _require_object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise WhatwattInvalidResponseError(f"{what} is not a JSON object")
    return data


# --- parsers ----------------------------------------------------------------------------------


def parse_report(data: Any, *, tz: tzinfo | None = None) -> Report:
    """Parse the decoded JSON of ``GET /api/v1/report`` (device README §8).

    ``tz`` is only used for old firmware that sends neither ``date_time_utc`` nor
    ``date_time_local``: its ``date_time`` is local time despite the trailing ``Z``.
    """
    root = _require_object(data, "report document")
    report = _obj(root, "report")
    collect = _Values()
    for path, measurement in REPORT_PATHS.items():
        value = _dig(report, *path)
        if value is not None:
            collect.measure("report." + ".".join(path), measurement, value)
    tariff = collect.tariff("report.tariff", report.get("tariff"))

    timestamp = parse_iso_time(report.get("date_time_utc"))
    if timestamp is None:
        timestamp = parse_iso_time(report.get("date_time_local"))
    if timestamp is None:
        timestamp = parse_iso_time(report.get("date_time"), local_tz=tz or UTC)

    meter_block = _obj(root, "meter")
    meter = (
        MeterInfo(
            status=_text(meter_block.get("status")),
            interface=_text(meter_block.get("interface")),
            protocol=_text(meter_block.get("protocol")),
            protocol_version=_text(meter_block.get("protocol_version")),
            vendor=_text(meter_block.get("vendor")),
            model=_text(meter_block.get("model")),
            meter_id=_text(meter_block.get("id")),
            serial=_text(meter_block.get("logical_name")),
            report_interval=_float(report.get("interval")),
            tariff=tariff,
        )
        if meter_block
        else None
    )
    system = _obj(root, "system")
    return Report(
        values=collect.values,
        device_id=_device_id(system.get("id")),
        report_id=_int(report.get("id")),
        interval=_float(report.get("interval")),
        tariff=tariff,
        timestamp=timestamp,
        meter=meter,
        boot_id=_text(system.get("boot_id")),
        uptime=_float(system.get("time_since_boot")),
        rejected=tuple(collect.rejected),
        raw=root,
    )


def parse_live_event(data: str | bytes, *, tz: tzinfo | None = None) -> Report:
    """Parse one Server-Sent Event ``data`` line of ``/api/v1/live`` (flat keys, device README §9).

    ``Date``/``Time`` are local wall-clock time, read in ``tz`` (None → UTC); ``Uptime`` is hours.
    """
    event = _decode_object(data)
    collect = _Values()
    for wire_key, measurement in LIVE_KEYS.items():
        collect.measure(wire_key, measurement, event.get(wire_key))
    tariff = collect.tariff("T", event.get("T"))
    uptime_hours = collect.number("Uptime", event.get("Uptime"))
    return Report(
        values=collect.values,
        tariff=tariff,
        timestamp=_local_date_time(event.get("Date"), event.get("Time"), tz),
        uptime=uptime_hours * 3600.0 if uptime_hours is not None else None,
        rejected=tuple(collect.rejected),
        raw=event,
    )


def parse_mqtt_payload(payload: str | bytes, *, tz: tzinfo | None = None) -> Report:
    """Parse an MQTT message: the integration's own template or the vendor's flat template.

    The own template is recognised by its marker key (``template.MARKER_KEY``); anything else is
    read as the vendor template (``sys_id``, ``time`` in UNIX seconds, ``power_in`` ...). ``tz`` is
    accepted for symmetry; both templates carry UTC times.
    """
    del tz  # both templates carry UTC or UNIX time
    data = _decode_object(payload, repair=True)
    if MARKER_KEY in data:
        return _parse_own_payload(data)
    return _parse_vendor_payload(data)


def _parse_own_payload(data: dict[str, Any]) -> Report:
    collect = _Values()
    for key, measurement in OWN_KEY_TO_MEASUREMENT.items():
        collect.measure(key, measurement, data.get(key))
    tariff = collect.tariff(KEY_TARIFF, data.get(KEY_TARIFF))
    timestamp = parse_iso_time(data.get(KEY_TIME_UTC))
    if timestamp is None:
        timestamp = _unix_time(data.get(KEY_TIMESTAMP))
    status = collect.text(KEY_METER_STATUS, data.get(KEY_METER_STATUS))
    return Report(
        values=collect.values,
        device_id=_device_id(data.get(KEY_DEVICE_ID)),
        tariff=tariff,
        timestamp=timestamp,
        meter=MeterInfo(status=status, tariff=tariff) if status else None,
        rejected=tuple(collect.rejected),
        raw=data,
    )


def _parse_vendor_payload(data: dict[str, Any]) -> Report:
    """Read the vendor's flat template.

    User templates that borrow the live-stream key names (``P_In``, ``E_In`` ...) are understood
    too, and ``time`` may also be ISO-8601 with an offset.
    """
    collect = _Values()
    for key, measurement in VENDOR_KEYS.items():
        collect.measure(key, measurement, data.get(key))
    for key, measurement in LIVE_KEYS.items():
        if measurement not in collect.values and key in data:
            collect.measure(key, measurement, data[key])
    tariff = collect.tariff("tariff", data.get("tariff"))
    meter_id = _text(data.get("meter_id"))
    timestamp = _unix_time(data.get("time"))
    if timestamp is None:
        timestamp = parse_iso_time(data.get("time"))
    return Report(
        values=collect.values,
        device_id=_device_id(data.get("sys_id")),
        tariff=tariff,
        timestamp=timestamp,
        meter=MeterInfo(meter_id=meter_id, tariff=tariff) if meter_id else None,
        rejected=tuple(collect.rejected),
        raw=data,
    )


def parse_system(data: Any, *, tz: tzinfo | None = None) -> SystemInfo:
    """Parse ``GET /api/v1/system`` (device README §7). ``device.id`` is required.

    ``device.last_reboot`` is the device's local date and time; it is read in ``tz`` (None → UTC)
    and returned in UTC.
    """
    root = _require_object(data, "system document")
    device = _obj(root, "device")
    device_id = _device_id(device.get("id"))
    if device_id is None:
        raise WhatwattInvalidResponseError("system document has no device.id")
    plug = _obj(device, "plug")
    uptime = _float(device.get("time_since_boot"))
    if uptime is None:
        uptime = _float(device.get("time_since_reboot"))
    last_reboot = _obj(device, "last_reboot")
    mqtc = _obj(root, "clouds", "mqtc")
    meter = _obj(root, "meter")
    tariff = _int(meter.get("tariff"))
    wifi = _obj(root, "wifi")
    return SystemInfo(
        device_id=device_id,
        name=_text(device.get("name")),
        model=_text(device.get("model")),
        firmware=_text(device.get("firmware")),
        build=_text(device.get("build")),
        license=(lic.upper() if (lic := _text(_dig(device, "license", "type"))) else None),
        uptime=uptime,
        last_boot=_local_date_time(last_reboot.get("date"), last_reboot.get("time"), tz),
        supply_voltage_usb=_float(plug.get("v_usb")),
        supply_voltage_mbus=_float(plug.get("v_mbus")),
        supply_voltage_p1=_float(plug.get("v_p1")),
        supply_voltage_scap=_float(plug.get("v_scap")),
        mqtt_enabled=_bool(mqtc.get("enabled")),
        mqtt_connected=_bool(mqtc.get("connected")),
        meter=MeterInfo(
            status=_text(meter.get("status")),
            interface=_text(meter.get("interface")),
            protocol=_text(meter.get("protocol")),
            protocol_version=_text(meter.get("protocol_version")),
            vendor=_text(meter.get("manufacturer")),
            model=_text(meter.get("model")),
            meter_id=_text(meter.get("id")),
            serial=_text(meter.get("type")),
            report_interval=_float(meter.get("report_interval")),
            tariff=tariff if tariff in (1, 2) else None,
        ),
        wifi_rssi=_int(wifi.get("rssi")),
        wifi_signal=_int(wifi.get("signal")),
        raw=root,
    )


def _plain_text(value: Any) -> str | None:
    """Return a string as-is (empty allowed, settings keep user text), else None."""
    return value if isinstance(value, str) else None


def parse_settings(data: Any) -> Settings:
    """Parse ``/api/v1/settings`` (device README §11)."""
    root = _require_object(data, "settings document")
    system = _obj(root, "system")
    services = _obj(root, "services")
    return Settings(
        name=_plain_text(system.get("name")),
        host_name=_plain_text(system.get("host_name")),
        protection=_bool(system.get("protection")),
        password_len=_int(system.get("password_len")),
        power_save=_bool(system.get("power_save")),
        report_interval=_int(services.get("report_interval")),
        broadcast=_bool(services.get("broadcast")),
        ntp_server=_plain_text(system.get("custom_ntp_server")),
        use_custom_ntp_server=_bool(system.get("use_custom_ntp_server")),
        raw=root,
    )


def parse_mqtt_settings(data: Any) -> MqttSettings:
    """Parse ``/api/v1/mqtt/settings`` (device README §12.1)."""
    root = _require_object(data, "MQTT settings document")
    return MqttSettings(
        enable=_bool(root.get("enable")),
        url=_plain_text(root.get("url")),
        username=_plain_text(root.get("username")),
        password_len=_int(root.get("password_len")),
        client_id=_plain_text(root.get("client_id")),
        topic=_plain_text(_dig(root, "publish", "topic")),
        template=_plain_text(_dig(root, "publish", "template")),
        skip_cn_check=_bool(root.get("skip_cn_check")),
        ca_certificate=_plain_text(_dig(root, "broker", "certificate")),
        raw=root,
    )


def parse_action_status(data: Any) -> list[ActionStatus]:
    """Parse ``GET /api/v1/actions/status`` (a list of records); unusable records are dropped."""
    if not isinstance(data, list):
        raise WhatwattInvalidResponseError("action status is not a JSON array")
    result: list[ActionStatus] = []
    for record in data:
        if not isinstance(record, Mapping):
            continue
        action_id = _plain_text(record.get("action_id"))
        status_id = _int(record.get("id"))
        code = _int(record.get("code"))
        if action_id is None or status_id is None or code is None:
            continue
        result.append(
            ActionStatus(
                action_id=action_id,
                status_id=status_id,
                code=code,
                exe_time=_float(record.get("exe_time")),
            )
        )
    return result
