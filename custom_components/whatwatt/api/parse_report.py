"""Parser for the REST report ``GET /api/v1/report`` (nested JSON, docs/device-api.md §8)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final

from .models import Report
from .parse_common import (
    ValueCollector,
    as_device_id,
    as_int,
    as_interval,
    as_text,
    as_uptime,
    dig,
    meter_info,
    obj_at,
    parse_iso_time,
    require_object,
)
from .parse_volume import REST_VOLUME_KEYS, parse_volumes

if TYPE_CHECKING:
    from collections.abc import Mapping

# REST report: path below "report" → measurement key (docs/device-api.md §8.1).
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


def parse_report(data: Any, *, tz: tzinfo | None = None) -> Report:
    """Parse the decoded JSON of ``GET /api/v1/report`` (docs/device-api.md §8).

    ``tz`` is only used for old firmware that sends neither ``date_time_utc`` nor
    ``date_time_local``: its ``date_time`` is local time despite the trailing ``Z``. For such a
    report ``local_time`` is the device's clock when it answered (``system.date_time``, local
    too), from which a caller can learn the device's current offset (``DeviceZone.observe``).
    """
    root = require_object(data, "report document")
    report = obj_at(root, "report")
    collect = ValueCollector()
    for path, measurement in REPORT_PATHS.items():
        value = dig(report, *path)
        if value is not None:
            collect.measure("report." + ".".join(path), measurement, value)
    tariff = collect.tariff("report.tariff", report.get("tariff"))
    volumes = parse_volumes(
        report.get("volume"), REST_VOLUME_KEYS, tz=tz, collect=collect, wire="report.volume"
    )

    system = obj_at(root, "system")
    timestamp, local_time = _times(report, system, tz)
    meter_block = obj_at(root, "meter")
    meter = (
        meter_info(
            meter_block,
            vendor="vendor",
            serial="logical_name",
            interval=report.get("interval"),
            tariff=tariff,
        )
        if meter_block
        else None
    )
    return Report(
        values=collect.values,
        device_id=as_device_id(system.get("id")),
        report_id=as_int(report.get("id")),
        interval=as_interval(report.get("interval")),
        tariff=tariff,
        timestamp=timestamp,
        meter=meter,
        local_time=local_time,
        boot_id=as_text(system.get("boot_id")),
        uptime=as_uptime(system.get("time_since_boot")),
        volumes=volumes,
        rejected=tuple(collect.rejected),
        raw=root,
    )


def _times(
    report: Mapping[str, Any], system: Mapping[str, Any], tz: tzinfo | None
) -> tuple[datetime | None, datetime | None]:
    """Return the reading's time and, for old firmware only, the device's wall clock."""
    timestamp = parse_iso_time(report.get("date_time_utc"))
    if timestamp is None:
        timestamp = parse_iso_time(report.get("date_time_local"))
    if timestamp is not None:
        return timestamp, None
    return (
        parse_iso_time(report.get("date_time"), local_tz=tz or UTC),
        _wall_clock(system.get("date_time")),
    )


def _wall_clock(value: Any) -> datetime | None:
    """Return a ``date_time`` as the device printed it: local wall-clock time, naive.

    The trailing ``Z`` is the device's quirk, not UTC (docs/device-api.md §8.3).
    """
    moment = parse_iso_time(value, local_tz=UTC)
    return moment.replace(tzinfo=None) if moment is not None else None
