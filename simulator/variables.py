"""The MQTT template variables of the simulated device (docs/device-api.md §12.4).

``build_variables`` returns every catalogue variable, in catalogue order, from the latest report
(``state.report``, §8 shape) and the system document (``state.system_json()``); None means the
value is unavailable. ``NUMERIC_VARIABLES`` tells the renderer which ones are numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final

from .submeters import template_time

if TYPE_CHECKING:
    from .state import DeviceState

Value = str | int | float | None


# variable → path below "report" (§8.1). Aliases share a path.
_REPORT_NUMBERS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("1_8_0", ("energy", "active", "positive", "total")),
    ("energy.in", ("energy", "active", "positive", "total")),
    ("1_8_1", ("energy", "active", "positive", "t1")),
    ("1_8_2", ("energy", "active", "positive", "t2")),
    ("2_8_0", ("energy", "active", "negative", "total")),
    ("energy.out", ("energy", "active", "negative", "total")),
    ("2_8_1", ("energy", "active", "negative", "t1")),
    ("2_8_2", ("energy", "active", "negative", "t2")),
    ("1_6_0", ("max_demand", "active", "positive", "total")),
    ("1_6_1", ("max_demand", "active", "positive", "t1")),
    ("1_6_2", ("max_demand", "active", "positive", "t2")),
    ("2_6_0", ("max_demand", "active", "negative", "total")),
    ("2_6_1", ("max_demand", "active", "negative", "t1")),
    ("2_6_2", ("max_demand", "active", "negative", "t2")),
    ("1_7_0", ("instantaneous_power", "active", "positive", "total")),
    ("power.in", ("instantaneous_power", "active", "positive", "total")),
    ("21_7_0", ("instantaneous_power", "active", "positive", "l1")),
    ("41_7_0", ("instantaneous_power", "active", "positive", "l2")),
    ("61_7_0", ("instantaneous_power", "active", "positive", "l3")),
    ("2_7_0", ("instantaneous_power", "active", "negative", "total")),
    ("power.out", ("instantaneous_power", "active", "negative", "total")),
    ("22_7_0", ("instantaneous_power", "active", "negative", "l1")),
    ("42_7_0", ("instantaneous_power", "active", "negative", "l2")),
    ("62_7_0", ("instantaneous_power", "active", "negative", "l3")),
    ("9_7_0", ("instantaneous_power", "apparent", "total")),
    ("3_7_0", ("instantaneous_power", "reactive", "positive", "total")),
    ("23_7_0", ("instantaneous_power", "reactive", "positive", "l1")),
    ("43_7_0", ("instantaneous_power", "reactive", "positive", "l2")),
    ("63_7_0", ("instantaneous_power", "reactive", "positive", "l3")),
    ("4_7_0", ("instantaneous_power", "reactive", "negative", "total")),
    ("24_7_0", ("instantaneous_power", "reactive", "negative", "l1")),
    ("44_7_0", ("instantaneous_power", "reactive", "negative", "l2")),
    ("64_7_0", ("instantaneous_power", "reactive", "negative", "l3")),
    *(
        (f"{code}_8_{n}", (*base, suffix))
        for code, base in (
            ("3", ("energy", "reactive", "positive")),
            ("4", ("energy", "reactive", "negative")),
            ("5", ("energy", "reactive", "imported", "inductive")),
            ("6", ("energy", "reactive", "imported", "capacitive")),
            ("7", ("energy", "reactive", "exported", "inductive")),
            ("8", ("energy", "reactive", "exported", "capacitive")),
        )
        for n, suffix in enumerate(("total", "t1", "t2"))
    ),
    ("32_7_0", ("voltage", "l1")),
    ("52_7_0", ("voltage", "l2")),
    ("72_7_0", ("voltage", "l3")),
    ("31_7_0", ("current", "l1")),
    ("51_7_0", ("current", "l2")),
    ("71_7_0", ("current", "l3")),
)

_SIGNED_CURRENTS: Final = (("s31_7_0", "l1"), ("s51_7_0", "l2"), ("s71_7_0", "l3"))

_TEXT_VARIABLES: Final = (
    "meter.date_time",
    "meter.date_time_local",
    "meter.date_time_utc",
    "meter.id",
    "meter.type",
    "meter.vendor",
    "meter.model",
    "meter.interface",
    "meter.protocol",
    "meter.protocol_ver",
    "meter.status",
    "sys.name",
    "sys.id",
    "sys.firmware",
    "sys.date_time",
    "sys.date_time_local",
    "sys.date_time_utc",
    "wifi.mode",
    "wifi.sta.status",
    "wifi.sta.ssid",
    "wifi.sta.bssid",
    "wifi.sta.mac",
    "wifi.sta.ip",
    "wifi.sta.mask",
    "wifi.sta.gw",
    "wifi.sta.dns",
    "eth.state",
    "eth.mac",
    "eth.ip",
    "eth.mask",
    "eth.gw",
    "eth.dns",
    "plug.interface",
)

NUMERIC_VARIABLES: Final[frozenset[str]] = frozenset(
    {name for name, _ in _REPORT_NUMBERS}
    | {name for name, _ in _SIGNED_CURRENTS}
    | {
        "timestamp",
        "tariff",
        "conv_factor",
        "13_7_0",
        "wifi.sta.rssi",
        "wifi.sta.channel",
        "plug.voltage.usb",
        "plug.voltage.p1",
        "plug.voltage.mbus",
    }
)


def is_numeric(name: str) -> bool:
    """Return True for numeric variables, including the sub-meter ``vol[n].bus``/``.cumulative``."""
    if name in NUMERIC_VARIABLES:
        return True
    return name.startswith("vol[") and name.endswith(("].bus", "].cumulative"))


class NumericNames:
    """Container answering ``name in numeric`` for the renderer (catalogue + sub-meters)."""

    def __contains__(self, name: object) -> bool:
        """Return True for a numeric variable name."""
        return isinstance(name, str) and is_numeric(name)


NUMERIC: Final = NumericNames()


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number: int | float = value
    return number


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


def _lower(value: Any) -> str | None:
    text = _text(value)
    return text.lower() if text is not None else None


def _unix_seconds(value: Any, *, local_zone: tzinfo | None = None) -> int | None:
    """Return UNIX seconds of an ISO time; with ``local_zone`` the text is local (``Z`` quirk)."""
    if not isinstance(value, str):
        return None
    try:
        if local_zone is not None:
            moment = datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=local_zone)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def _signed_current(report: Mapping[str, Any], phase: str) -> float | None:
    current = _number(_dig(report, "current", phase))
    if current is None:
        return None
    imported = _number(_dig(report, "instantaneous_power", "active", "positive", phase)) or 0
    exported = _number(_dig(report, "instantaneous_power", "active", "negative", phase)) or 0
    return -abs(current) if exported > imported else abs(current)


def _report_variables(report: Mapping[str, Any]) -> dict[str, Value]:
    out: dict[str, Value] = {name: _number(_dig(report, *path)) for name, path in _REPORT_NUMBERS}
    for name, phase in _SIGNED_CURRENTS:
        out[name] = _signed_current(report, phase)
    tariff = _number(report.get("tariff"))
    out["timestamp"] = _unix_seconds(report.get("date_time_utc"))
    out["tariff"] = tariff or None
    out["conv_factor"] = _number(report.get("conv_factor"))
    out["13_7_0"] = _number(report.get("power_factor"))
    return out


def _meter_variables(
    report: Mapping[str, Any], meter: Mapping[str, Any], sys_meter: Mapping[str, Any]
) -> dict[str, Value]:
    def pick(report_key: str, system_key: str) -> str | None:
        return _text(meter.get(report_key)) or _text(sys_meter.get(system_key))

    return {
        "meter.date_time": _text(report.get("date_time")),
        "meter.date_time_local": _text(report.get("date_time_local")),
        "meter.date_time_utc": _text(report.get("date_time_utc")),
        "meter.id": pick("id", "id"),
        "meter.type": _text(sys_meter.get("type")) or _text(meter.get("logical_name")),
        "meter.vendor": pick("vendor", "manufacturer"),
        "meter.model": pick("model", "model"),
        "meter.interface": pick("interface", "interface"),
        "meter.protocol": pick("protocol", "protocol"),
        "meter.protocol_ver": pick("protocol_version", "protocol_version"),
        "meter.status": _text(sys_meter.get("status")) or _text(meter.get("status")),
    }


def _network(prefix: str, block: Mapping[str, Any]) -> dict[str, Value]:
    pairs = (("mac", "mac"), ("ip", "ip"), ("mask", "mask"), ("gw", "gateway"), ("dns", "dns"))
    return {f"{prefix}.{key}": _text(block.get(source)) for key, source in pairs}


def _system_variables(system: Mapping[str, Any], clock: Mapping[str, Any]) -> dict[str, Value]:
    device: Mapping[str, Any] = _dig(system, "device") or {}
    wifi: Mapping[str, Any] = _dig(system, "wifi") or {}
    eth: Mapping[str, Any] = _dig(system, "ethernet") or {}
    plug: Mapping[str, Any] = _dig(device, "plug") or {}
    sys_local = None
    if device.get("date") and device.get("time"):
        sys_local = f"{device['date']}T{device['time']}Z"
    return {
        "sys.name": _text(device.get("name")),
        "sys.id": _text(device.get("id")),
        "sys.firmware": _text(device.get("firmware")),
        "sys.date_time": _text(clock.get("date_time")) or sys_local,
        "sys.date_time_local": _text(clock.get("date_time_local")),
        "sys.date_time_utc": _text(clock.get("date_time_utc")),
        "wifi.mode": _lower(wifi.get("mode")),
        "wifi.sta.status": _lower(wifi.get("status")),
        "wifi.sta.ssid": _text(wifi.get("ssid")),
        "wifi.sta.bssid": _text(wifi.get("bssid")),
        "wifi.sta.rssi": _number(wifi.get("rssi")),
        "wifi.sta.channel": _number(wifi.get("channel")),
        **_network("wifi.sta", wifi),
        "eth.state": _lower(eth.get("status")),
        **_network("eth", eth),
        "plug.interface": _text(_dig(system, "meter", "interface")),
        "plug.voltage.usb": _number(plug.get("v_usb")),
        "plug.voltage.p1": _number(plug.get("v_p1")),
        "plug.voltage.mbus": _number(plug.get("v_mbus")),
    }


def _volume_variables(report: Mapping[str, Any], zone: tzinfo) -> dict[str, Value]:
    """Return ``vol[n].*`` for the report's sub-meters (``date_time`` UTC, the REST one local)."""
    out: dict[str, Value] = {}
    volumes = report.get("volume")
    if not isinstance(volumes, list):
        return out
    for index, entry in enumerate(volumes):
        if isinstance(entry, Mapping):
            out[f"vol[{index}].bus"] = _number(entry.get("bus"))
            out[f"vol[{index}].meter_id"] = _text(entry.get("meter_id"))
            out[f"vol[{index}].date_time"] = template_time(entry.get("date_time"), zone)
            out[f"vol[{index}].cumulative"] = _number(entry.get("cumulative"))
    return out


def build_variables(
    state: DeviceState, report_json: Mapping[str, Any] | None = None
) -> dict[str, Value]:
    """Return every catalogue variable with its current value (None = unavailable).

    ``report_json`` replaces ``state.report`` (the MQTT publisher passes a glitched copy).
    """
    full = report_json if report_json is not None else (state.report or {})
    report: Mapping[str, Any] = _dig(full, "report") or {}
    meter: Mapping[str, Any] = _dig(full, "meter") or {}
    clock: Mapping[str, Any] = _dig(full, "system") or {}
    system = state.system_json()
    sys_meter: Mapping[str, Any] = _dig(system, "meter") or {}
    out = {
        **_report_variables(report),
        **_meter_variables(report, meter, sys_meter),
        **_system_variables(system, clock),
        **_volume_variables(report, state.zone),
    }
    if not state.full_stamps:
        # Firmware before ~1.10 has no *_local/*_utc variables: the renderer leaves them verbatim.
        for name in _NEW_STAMP_VARIABLES:
            del out[name]
        out["timestamp"] = _unix_seconds(report.get("date_time"), local_zone=state.zone)
    return out


_NEW_STAMP_VARIABLES: Final = (
    "meter.date_time_local",
    "meter.date_time_utc",
    "sys.date_time_local",
    "sys.date_time_utc",
)
