"""parse_live_event: one SSE data line of /api/v1/live (flat keys, local time, hours)."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from zoneinfo import ZoneInfo

import pytest

from custom_components.whatwatt.api.errors import WhatwattInvalidResponseError
from custom_components.whatwatt.api.parse_live import LIVE_KEYS, parse_live_event

from .helpers import assert_values, fixture_text

ZURICH = ZoneInfo("Europe/Zurich")


def test_three_phase_event() -> None:
    line = fixture_text("live_event_three.json").strip()
    report = parse_live_event(line, tz=ZURICH)
    assert_values(
        report.values,
        {
            "power_import": 1.204,
            "power_import_l3": 0.411,
            "power_export": 0.0,
            "reactive_power_import": 0.12,
            "voltage_l2": 229.8,
            "current_l3": 1.77,
            "energy_import_t2": 2110.356,
            "energy_export_t1": 500.0,
            "reactive_energy_export": 120.7,
            "power_factor": 0.99,
            "max_demand_import": 7.8,
        },
    )
    assert "apparent_power" not in report.values  # no SSE key for it
    assert len(report.values) == len(LIVE_KEYS)
    assert report.tariff == 2
    assert report.timestamp == datetime(2026, 1, 15, 8, 12, 40, tzinfo=UTC)
    assert report.uptime == 24.0 * 3600
    assert report.rejected == ()


def test_readme_example_bytes_without_tz_is_utc() -> None:
    data = (
        b'{"P_In":1.204,"P_Out":0,"V_P1":231.4,"I_P1":1.74,"E_In":5120.456,"E_Out":812.004,'
        b'"T":2,"Date":"2026-01-15","Time":"09:12:40","Uptime":24.0}'
    )
    report = parse_live_event(data)
    assert report.values == {
        "power_import": 1.204,
        "power_export": 0.0,
        "voltage_l1": 231.4,
        "current_l1": 1.74,
        "energy_import": 5120.456,
        "energy_export": 812.004,
    }
    assert report.timestamp == datetime(2026, 1, 15, 9, 12, 40, tzinfo=UTC)
    assert report.uptime == 86400.0


def test_missing_tariff_and_time() -> None:
    report = parse_live_event('{"P_In": 0.5}')
    assert report.tariff is None
    assert report.timestamp is None
    assert report.uptime is None
    assert report.values == {"power_import": 0.5}


def test_summer_time() -> None:
    report = parse_live_event('{"Date":"2026-07-01","Time":"12:00:00"}', tz=ZURICH)
    assert report.timestamp == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_bad_values_are_rejected_and_the_rest_kept() -> None:
    report = parse_live_event(
        json.dumps(
            {
                "P_In": "null",
                "P_Out": True,
                "V_P1": {"v": 1},
                "I_P1": "${31_7_0}",
                "E_In": 10.5,
                "T": 7,
                "Uptime": "soon",
                "Date": "x",
                "Time": "y",
                "Unknown": 5,
            }
        )
    )
    assert report.values == {"energy_import": 10.5}
    assert set(report.rejected) == {"P_In", "P_Out", "V_P1", "I_P1", "T", "Uptime"}
    assert report.timestamp is None


def test_nan_is_rejected() -> None:
    report = parse_live_event('{"P_In": NaN, "P_Out": Infinity, "E_In": 1}')
    assert report.values == {"energy_import": 1.0}
    assert set(report.rejected) == {"P_In", "P_Out"}


@pytest.mark.parametrize(
    "data",
    [
        "",
        "not json",
        "[1, 2]",
        "null",
        '"text"',
        "{",
        b"\xff\xfe{}",
        b'{"P_In": "\xe9"}',
        "{" + '"a":' * 100000 + "1" + "}" * 100000,
        '{"pad": "' + "x" * (1024 * 1024) + '"}',
        ("{" + '"P_In":1,' * 20000 + '"E":1}').encode(),
    ],
)
def test_bad_payloads_raise_typed_error(data: str | bytes) -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_live_event(data)


def test_non_text_input_raises() -> None:
    with pytest.raises(WhatwattInvalidResponseError):
        parse_live_event(123)  # type: ignore[arg-type]
