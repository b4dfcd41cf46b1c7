"""The boundary's promise about every model a parser returns (``api/parse_common.py``).

Every number is finite and within the range of its quantity (``MEASUREMENT_RANGES``), intervals
within ``INTERVAL_RANGE``, uptimes within ``0..MAX_UPTIME``, sub-meter counters within
``REGISTER_RANGE``; every datetime is aware and within ``MIN_TIME``..``MAX_TIME`` (the device's
wall clock, ``local_time``, may be naive: then within the same years); a device id is 12
upper-case hexadecimal digits; a whole number is exact (at most 2**53, so a state of at most
16 digits).
"""

from __future__ import annotations

from datetime import datetime
import math
import re
from typing import Any

from custom_components.whatwatt.api.models import (
    INTERVAL_RANGE,
    MAX_UPTIME,
    MEASUREMENT_KEYS,
    MEASUREMENT_RANGES,
    REGISTER_RANGE,
    ActionStatus,
    MeterInfo,
    MqttSettings,
    Report,
    Settings,
    SystemInfo,
)
from custom_components.whatwatt.api.parse_common import MAX_TIME, MIN_TIME
from custom_components.whatwatt.api.parse_sdcard import SdFile
from custom_components.whatwatt.api.parse_volume import MAX_BUS, MAX_VOLUMES

DEVICE_ID = re.compile(r"[0-9A-F]{12}")
EXACT = 2**53


def check_number(value: Any, low: float = -math.inf, high: float = math.inf) -> None:
    """A finite float (or int) within ``low..high``."""
    assert isinstance(value, int | float), value
    assert not isinstance(value, bool), value
    assert math.isfinite(value), value
    assert low <= value <= high, (value, low, high)


def check_optional_number(value: Any, low: float = -math.inf, high: float = math.inf) -> None:
    """None, or a number as ``check_number`` wants it."""
    if value is not None:
        check_number(value, low, high)


def check_int(value: Any) -> None:
    """None, or a whole number that a float holds exactly."""
    if value is not None:
        assert isinstance(value, int), value
        assert not isinstance(value, bool), value
        assert abs(value) <= EXACT, value


def check_time(moment: datetime | None, *, wall_clock: bool = False) -> None:
    """None, or aware within MIN_TIME..MAX_TIME; a wall clock may be naive in the same years."""
    if moment is None:
        return
    assert isinstance(moment, datetime), moment
    if moment.tzinfo is None:
        assert wall_clock, moment
        low, high = MIN_TIME.replace(tzinfo=None), MAX_TIME.replace(tzinfo=None)
    else:
        assert moment.utcoffset() is not None, moment
        low, high = MIN_TIME, MAX_TIME
    assert low <= moment < high, moment


def check_interval(value: Any) -> None:
    """None, or within the device's report interval range."""
    check_optional_number(value, *INTERVAL_RANGE)


def check_text(value: Any) -> None:
    """None or a string."""
    assert value is None or isinstance(value, str), value


def check_device_id(value: Any) -> None:
    """None or 12 upper-case hexadecimal digits."""
    assert value is None or DEVICE_ID.fullmatch(value), value


def check_meter(meter: MeterInfo | None) -> None:
    """A meter block: text, an interval in range, tariff 1, 2 or none."""
    if meter is None:
        return
    for name in ("status", "interface", "protocol", "protocol_version", "vendor", "model"):
        check_text(getattr(meter, name))
    check_text(meter.meter_id)
    check_text(meter.serial)
    check_interval(meter.report_interval)
    assert meter.tariff in (None, 1, 2), meter.tariff


def check_values(values: Any) -> None:
    """Measurement keys only, floats within their quantity's range."""
    for key, value in values.items():
        assert key in MEASUREMENT_KEYS, key
        assert isinstance(value, float), (key, value)
        check_number(value, *MEASUREMENT_RANGES[key])


def check_report(report: Report) -> None:
    """Everything a reading holds."""
    assert isinstance(report, Report), report
    check_values(report.values)
    check_device_id(report.device_id)
    check_int(report.report_id)
    check_interval(report.interval)
    assert report.tariff in (None, 1, 2), report.tariff
    check_time(report.timestamp)
    check_time(report.local_time, wall_clock=True)
    check_meter(report.meter)
    check_text(report.boot_id)
    check_optional_number(report.uptime, 0, MAX_UPTIME)
    assert all(isinstance(key, str) for key in report.rejected)
    if report.volumes is None:
        return
    assert len(report.volumes) <= MAX_VOLUMES
    for bus, volume in report.volumes.items():
        assert volume.bus == bus
        assert isinstance(bus, int)
        assert 0 <= bus <= MAX_BUS
        check_text(volume.meter_id)
        check_optional_number(volume.cumulative, *REGISTER_RANGE)
        check_time(volume.captured)


def check_system(system: SystemInfo) -> None:
    """The system document."""
    assert isinstance(system, SystemInfo), system
    check_device_id(system.device_id)
    assert system.device_id is not None
    for name in ("name", "model", "firmware", "build", "license"):
        check_text(getattr(system, name))
    check_optional_number(system.uptime, 0, MAX_UPTIME)
    check_time(system.last_boot)
    check_time(system.local_time, wall_clock=True)
    for rail in ("usb", "mbus", "p1", "scap"):
        check_optional_number(getattr(system, f"supply_voltage_{rail}"))
    assert system.mqtt_enabled in (None, True, False)
    assert system.mqtt_connected in (None, True, False)
    check_meter(system.meter)
    check_int(system.wifi_rssi)
    check_int(system.wifi_signal)


def check_settings(settings: Settings) -> None:
    """The settings document."""
    assert isinstance(settings, Settings), settings
    for name in ("name", "host_name", "ntp_server"):
        check_text(getattr(settings, name))
    check_interval(settings.report_interval)
    check_int(settings.report_interval)
    check_int(settings.password_len)


def check_mqtt_settings(settings: MqttSettings) -> None:
    """The MQTT settings document."""
    assert isinstance(settings, MqttSettings), settings
    for name in ("url", "username", "client_id", "topic", "template", "ca_certificate"):
        check_text(getattr(settings, name))
    check_int(settings.password_len)


def check_action_status(records: list[ActionStatus]) -> None:
    """The records of the action status."""
    for record in records:
        assert isinstance(record, ActionStatus)
        assert isinstance(record.action_id, str)
        check_int(record.status_id)
        check_int(record.code)
        assert record.status_id is not None
        assert record.code is not None
        check_optional_number(record.exe_time)


def check_sd_files(files: tuple[SdFile, ...]) -> None:
    """The entries of an SD-card listing."""
    for entry in files:
        assert isinstance(entry, SdFile)
        assert isinstance(entry.name, str)
        assert entry.name
        check_int(entry.size)
        assert entry.size >= 0
