"""parse_report: the nested REST report (docs/device-api.md §8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.whatwatt.api.errors import WhatwattInvalidResponseError
from custom_components.whatwatt.api.models import MEASUREMENT_KEYS
from custom_components.whatwatt.api.parse_report import REPORT_PATHS, parse_report

from .helpers import FIXTURE_METER, assert_none, load

ZURICH = ZoneInfo("Europe/Zurich")


def test_three_phase_dlms_report_maps_every_quantity() -> None:
    report = parse_report(load("report_dlms_three.json"))
    assert dict(report.values) == {
        "power_import": 1.204,
        "power_import_l1": 0.402,
        "power_import_l2": 0.391,
        "power_import_l3": 0.411,
        "power_export": 0.0,
        "power_export_l1": 0.0,
        "power_export_l2": 0.0,
        "power_export_l3": 0.0,
        "reactive_power_import": 0.12,
        "reactive_power_export": 0.0,
        "apparent_power": 1.21,
        "power_factor": 0.99,
        "voltage_l1": 231.4,
        "voltage_l2": 229.8,
        "voltage_l3": 232.0,
        "current_l1": 1.74,
        "current_l2": 1.70,
        "current_l3": 1.77,
        "energy_import": 5120.456,
        "energy_import_t1": 3010.1,
        "energy_import_t2": 2110.356,
        "energy_export": 812.004,
        "energy_export_t1": 500.0,
        "energy_export_t2": 312.004,
        "reactive_energy_import": 950.2,
        "reactive_energy_export": 120.7,
        "max_demand_import": 7.8,
        "max_demand_export": 4.2,
    }
    assert all(isinstance(v, float) for v in report.values.values())
    assert report.rejected == ()
    assert report.device_id == "A1B2C3D4E5F6"
    assert report.report_id == 1532
    assert report.interval == 5.02
    assert report.tariff == 2
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.boot_id == "5E2A91C0"
    assert report.uptime == 86400.0
    assert report.meter == FIXTURE_METER
    assert report.raw["report"]["id"] == 1532


def test_single_phase_p1_report() -> None:
    report = parse_report(load("report_p1_single.json"))
    assert report.values["power_import"] == 0.412
    assert report.values["voltage_l1"] == 229.9
    assert report.values["voltage_l2"] == 0.0  # single-phase meters report 0 for L2/L3
    assert "reactive_power_import" not in report.values
    assert "apparent_power" not in report.values
    assert "power_factor" not in report.values
    assert report.values["energy_import_t1"] == 734.25
    assert report.tariff == 1
    assert report.timestamp == datetime(2026, 7, 1, 20, 30, 5, tzinfo=UTC)
    assert report.meter is not None
    assert report.meter.protocol_version == "5.0"
    assert report.rejected == ()


def test_every_report_path_maps_to_a_measurement_key() -> None:
    assert set(REPORT_PATHS.values()) == set(MEASUREMENT_KEYS)


def test_old_firmware_date_time_is_local_despite_z() -> None:
    data = load("report_old_firmware.json")
    report = parse_report(data, tz=ZURICH)
    # 09:12:40 "Z" is Zurich wall-clock time (UTC+1 in January) → 08:12:40 UTC.
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.tariff is None  # 0 = unknown
    assert report.device_id == "A1B2C3D4E5F6"  # normalised to upper case
    assert report.values == {
        "power_import": 0.25,
        "power_export": 0.0,
        "energy_import": 100.5,
        "energy_export": 0.0,
    }


def test_old_firmware_without_tz_reads_utc() -> None:
    report = parse_report(load("report_old_firmware.json"))
    assert report.timestamp == datetime(2026, 1, 15, 9, 12, 40, tzinfo=UTC)


def test_old_firmware_local_time_is_the_device_clock() -> None:
    """No UTC time: ``local_time`` is ``system.date_time`` as printed (the clock as it answered)."""
    report = parse_report(load("report_old_firmware.json"), tz=ZURICH)
    assert report.local_time == datetime.fromisoformat("2026-01-15T09:12:41")  # naive: no Z
    assert report.local_time.tzinfo is None
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)  # the reading's


def test_local_time_only_without_a_utc_time() -> None:
    """A report with ``date_time_utc`` or ``date_time_local`` needs no zone: no local time."""
    assert parse_report(load("report_dlms_three.json")).local_time is None
    data = {
        "report": {
            "date_time": "2026-01-15T09:12:40Z",
            "date_time_local": "2026-01-15T09:12:40+01:00",
        },
        "system": {"date_time": "2026-01-15T09:12:44Z"},
    }
    assert parse_report(data).local_time is None


@pytest.mark.parametrize("stamp", [None, "", "soon", 12, "${sys.date_time}"])
def test_unreadable_system_clock_gives_no_local_time(stamp: Any) -> None:
    data = {"report": {"date_time": "2026-01-15T09:12:40Z"}, "system": {"date_time": stamp}}
    report = parse_report(data)
    assert report.local_time is None
    assert report.timestamp == datetime(2026, 1, 15, 9, 12, 40, tzinfo=UTC)


def test_skeleton_report_carries_the_device_clock() -> None:
    """Before the first telegram the report has no time, the system block still has the clock."""
    data = {"report": {"id": 0, "interval": 1.0}, "system": {"date_time": "2026-01-15T09:12:44Z"}}
    report = parse_report(data)
    assert report.timestamp is None
    assert report.local_time == datetime.fromisoformat("2026-01-15T09:12:44")


def test_summer_time_local_date_time() -> None:
    data = {"report": {"date_time": "2026-07-01T12:00:00Z"}}
    assert parse_report(data, tz=ZURICH).timestamp == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_date_time_local_used_when_utc_missing() -> None:
    data = {
        "report": {
            "date_time": "2026-01-15T09:12:40Z",
            "date_time_local": "2026-01-15T09:12:40+01:00",
        }
    }
    report = parse_report(data, tz=timezone(timedelta(hours=5)))
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)


def test_utc_preferred_over_the_z_quirk() -> None:
    data = load("report_dlms_three.json")
    # even with a tz given, the true UTC stamp wins over the local date_time
    assert parse_report(data, tz=ZURICH).timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)


def test_bad_timestamps_give_none() -> None:
    for stamp in ("yesterday", "", 12, None, "2026-13-45T00:00:00Z", "${meter.date_time_utc}"):
        data = {"report": {"date_time_utc": stamp}}
        assert parse_report(data).timestamp is None
    # a naive date_time_utc (no offset) is not trusted as UTC → falls through, no date_time
    assert parse_report({"report": {"date_time_utc": "2026-01-15T08:12:40"}}).timestamp is None


def test_empty_document_is_an_empty_report() -> None:
    report = parse_report({})
    assert report.values == {}
    assert report.meter is None
    assert report.device_id is None
    assert report.timestamp is None
    assert report.rejected == ()


def test_unknown_keys_are_ignored() -> None:
    data = load("report_p1_single.json")
    data["report"]["future_quantity"] = {"x": 1}
    data["extra_block"] = [1, 2, 3]
    data["report"]["voltage"]["l4"] = 5
    report = parse_report(data)
    assert report.values["voltage_l1"] == 229.9
    assert report.rejected == ()


@pytest.mark.parametrize(
    ("value", "rejected"),
    [
        (True, True),
        (float("nan"), True),
        (float("inf"), True),
        ("null", True),
        ("", True),
        ("${32_7_0}", True),
        ({"value": 1}, True),
        ([231.4], True),
        ("abc", True),
        ("1_000", True),
        (10**400, True),
        (None, False),  # JSON null = absent
    ],
)
def test_bad_measurement_values_are_rejected(value: Any, rejected: bool) -> None:
    data = load("report_dlms_three.json")
    data["report"]["voltage"]["l1"] = value
    report = parse_report(data)
    assert "voltage_l1" not in report.values
    assert report.values["voltage_l2"] == 229.8  # the rest of the reading survives
    assert report.rejected == (("report.voltage.l1",) if rejected else ())


def test_numeric_strings_are_accepted() -> None:
    data = {"report": {"voltage": {"l1": "231.4", "l2": " 5 ", "l3": "1e2"}, "tariff": "2"}}
    report = parse_report(data)
    assert report.values == {"voltage_l1": 231.4, "voltage_l2": 5.0, "voltage_l3": 100.0}
    assert report.tariff == 2


def test_wrong_block_types_are_tolerated() -> None:
    report = parse_report({"report": "nope", "meter": [], "system": 5})
    assert report.values == {}
    assert report.meter is None
    report = parse_report({"report": {"voltage": 230, "energy": {"active": "x"}}})
    assert report.values == {}


@pytest.mark.parametrize("tariff", [3, -1, 1.5, "x", True])
def test_odd_tariffs_are_rejected(tariff: Any) -> None:
    report = parse_report({"report": {"tariff": tariff}})
    assert report.tariff is None
    assert report.rejected == ("report.tariff",)


def test_bad_counters_become_none() -> None:
    data = {
        "report": {"id": "x", "interval": "fast"},
        "system": {"id": 42, "boot_id": {}, "time_since_boot": "long"},
    }
    report = parse_report(data)
    assert_none(report, "report_id", "interval", "device_id", "boot_id", "uptime")


@pytest.mark.parametrize("data", [None, [], "report", 5, b"{}"])
def test_non_object_raises(data: Any) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_report(data)


def test_large_document_is_parsed_without_trouble() -> None:
    data = load("report_dlms_three.json")
    data["report"]["volume"] = [{"bus": i, "cumulative": i} for i in range(20000)]
    report = parse_report(data)
    assert report.values["energy_import"] == 5120.456
