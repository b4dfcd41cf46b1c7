"""The rules of ``backfill.plan`` on hand-made rows, and the bounds of one run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from custom_components.whatwatt.api.clock import DeviceZone
from custom_components.whatwatt.api.parse_sdcard import SdFile
from custom_components.whatwatt.api.sdcard import closing_hour, device_offset, files_for
from custom_components.whatwatt.backfill.plan import (
    HOUR,
    MAX_BACKFILL_DAYS,
    NO_ANCHOR,
    NOT_CONTINUOUS,
    HourRow,
    full_hours,
    importable_hours,
    plan_series,
    window_hours,
)
from custom_components.whatwatt.backfill.statistics import Series

H = [datetime(2026, 1, 15, 9, tzinfo=UTC) + HOUR * n for n in range(6)]  # 09:00 .. 14:00
ANCHOR = HourRow(H[0], 100.0, 10.0)


def rows_of(plan_rows: tuple[dict, ...]) -> dict[datetime, tuple[float, float]]:
    return {row["start"]: (row["state"], row["sum"]) for row in plan_rows}


def test_hours() -> None:
    start = datetime(2026, 1, 15, 9, 59, 30, tzinfo=UTC)
    assert full_hours(start, datetime(2026, 1, 15, 13, 0, 30, tzinfo=UTC)) == H[1:4]
    assert full_hours(H[1], H[2]) == [H[1]]
    assert full_hours(start, H[2] - timedelta(seconds=1)) == []
    assert closing_hour(H[2]) == H[1]
    assert closing_hour(H[2] + timedelta(seconds=1)) == H[2]


def test_absent_hours_continue_the_sum() -> None:
    """Rows for the gap: the closing reading, and the sum going on from the row before."""
    plan = plan_series([ANCHOR], H[1:4], set(), {H[1]: 101.5, H[2]: 103.0, H[3]: 103.25})
    assert rows_of(plan.rows) == {
        H[1]: (101.5, 11.5),
        H[2]: (103.0, 13.0),
        H[3]: (103.25, 13.25),
    }
    assert plan.amount == pytest.approx(3.25)
    assert plan.problem is None
    assert plan.hours == tuple(H[1:4])


def test_flat_rows_are_written_kept_rows_are_not() -> None:
    """Flat copies are replaced; a row that moved, or an hour with readings, stays."""
    rows = [
        ANCHOR,
        HourRow(H[1], 100.0, 10.0),  # flat: compiled from the last state
        HourRow(H[2], 102.0, 12.0),  # moved: Home Assistant saw readings
        HourRow(H[3], 102.0, 12.0),  # flat again
        HourRow(H[4], 104.5, 14.5),  # moved
    ]
    closing = {H[1]: 101.0, H[2]: 102.5, H[3]: 103.0, H[4]: 104.0}
    assert importable_hours(rows, H[1:5], set()) == [H[1], H[3]]
    plan = plan_series(rows, H[1:5], set(), closing)
    assert rows_of(plan.rows) == {H[1]: (101.0, 11.0), H[3]: (103.0, 13.0)}
    assert plan.problem is None
    # A flat row is kept too when a state was recorded in its hour.
    assert importable_hours(rows, H[1:5], {H[1]}) == [H[3]]
    plan = plan_series(rows, H[1:5], {H[1]}, closing)
    assert rows_of(plan.rows) == {H[3]: (103.0, 13.0)}


def test_second_run_writes_nothing() -> None:
    """Applying a plan and planning again: nothing left (also when a written hour is flat)."""
    closing = {H[1]: 101.0, H[2]: 101.0, H[3]: 102.0}
    first = plan_series([ANCHOR], H[1:4], set(), closing)
    applied = [ANCHOR, *(HourRow(r["start"], r["state"], r["sum"]) for r in first.rows)]
    assert rows_of(first.rows)[H[2]] == (101.0, 11.0)  # a flat hour of its own
    again = plan_series(applied, H[1:4], set(), closing)
    assert again.rows == ()
    assert again.amount == 0


def test_a_flat_row_without_reading_carries_the_sum() -> None:
    """A stale copy would show a negative hour: it takes the running values; absent stays absent."""
    rows = [ANCHOR, HourRow(H[1], 100.0, 10.0), HourRow(H[2], 100.0, 10.0)]
    plan = plan_series(rows, H[1:4], set(), {H[1]: 102.0, H[3]: 105.0})
    assert rows_of(plan.rows) == {
        H[1]: (102.0, 12.0),
        H[2]: (102.0, 12.0),
        H[3]: (105.0, 15.0),
    }


def test_an_absent_hour_without_reading_stays_absent() -> None:
    plan = plan_series([ANCHOR], H[1:4], set(), {H[1]: 102.0, H[3]: 105.0})
    assert rows_of(plan.rows) == {H[1]: (102.0, 12.0), H[3]: (105.0, 15.0)}


def test_a_meter_reset_counts_from_zero() -> None:
    plan = plan_series([ANCHOR], H[1:3], set(), {H[1]: 101.0, H[2]: 0.5})
    assert rows_of(plan.rows) == {H[1]: (101.0, 11.0), H[2]: (0.5, 11.5)}


def test_units_stay_as_recorded() -> None:
    """The plan works in the statistics' unit: here Wh."""
    plan = plan_series([HourRow(H[0], 100_000.0, 0.0)], H[1:2], set(), {H[1]: 100_250.0})
    assert rows_of(plan.rows) == {H[1]: (100_250.0, 250.0)}


def test_no_anchor_or_no_continuity_writes_nothing() -> None:
    assert plan_series([], H[1:3], set(), {H[1]: 1.0}).problem == NO_ANCHOR
    assert plan_series([HourRow(H[0], None, None)], H[1:2], set(), {H[1]: 1.0}).problem == (
        NO_ANCHOR
    )
    assert plan_series([ANCHOR], [], set(), {}).rows == ()
    # The row after the window lies below the new sum: a negative hour; nothing is written.
    after = HourRow(H[3], 102.0, 11.0)
    plan = plan_series([ANCHOR, after], H[1:3], set(), {H[1]: 101.0, H[2]: 103.0})
    assert plan.problem == NOT_CONTINUOUS
    assert plan.rows == ()
    # A kept row inside the window lies below the running sum.
    kept = HourRow(H[2], 101.0, 10.5)
    plan = plan_series([ANCHOR, kept], H[1:4], {H[2]}, {H[1]: 101.0, H[3]: 104.0})
    assert plan.problem == NOT_CONTINUOUS


def test_the_anchor_may_lie_inside_the_window() -> None:
    """A window that starts before the statistics do: the first recorded row anchors."""
    first = HourRow(H[1], 100.0, 0.0)
    plan = plan_series([first], H[0:3], set(), {H[0]: 99.0, H[2]: 101.0})
    assert rows_of(plan.rows) == {H[2]: (101.0, 1.0)}
    assert plan_series([first], H[0:2], set(), {H[0]: 99.0}).problem == NO_ANCHOR
    assert plan_series([first], H[0:2], set(), {}).problem is None


def test_a_kept_row_inside_re_anchors() -> None:
    kept = HourRow(H[2], 103.0, 13.0)
    plan = plan_series([ANCHOR, kept], H[1:4], {H[2]}, {H[1]: 101.0, H[3]: 104.0})
    assert rows_of(plan.rows) == {H[1]: (101.0, 11.0), H[3]: (104.0, 14.0)}


def test_window_bounds() -> None:
    """Full, ended hours; no further back than MAX_BACKFILL_DAYS nor the recorder's keep days."""
    now = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
    hours = window_hours(now - timedelta(days=30), now + timedelta(days=1), now)
    assert hours[0] == datetime(2026, 1, 15, 12, tzinfo=UTC) - timedelta(days=MAX_BACKFILL_DAYS)
    assert hours[-1] == datetime(2026, 1, 15, 11, tzinfo=UTC)
    assert len(hours) == MAX_BACKFILL_DAYS * 24
    kept = window_hours(now - timedelta(days=30), now, now, keep_days=2)
    assert kept[0] == datetime(2026, 1, 13, 13, tzinfo=UTC)


def test_files_of_the_window() -> None:
    """UTC dates and the device's local ones; while its offset is unknown, both neighbours."""
    listing = (
        *(SdFile(f"202601{day:02d}.CSV", 100) for day in range(10, 20)),
        SdFile("LOGS", is_dir=True),
        SdFile("README.TXT"),
    )
    noon = [datetime(2026, 1, 15, 11, tzinfo=UTC) + HOUR * n for n in range(2)]
    one = timedelta(hours=1)
    assert [f.day for f in files_for(listing, noon, one)] == [date(2026, 1, 15)]
    assert [f.day for f in files_for(listing, noon, None)] == [
        date(2026, 1, 14),
        date(2026, 1, 15),
        date(2026, 1, 16),
    ]
    evening = [datetime(2026, 1, 15, 23, tzinfo=UTC)]
    assert [f.day for f in files_for(listing, evening, one)] == [
        date(2026, 1, 15),
        date(2026, 1, 16),
    ]
    west = [datetime(2026, 1, 15, 2, tzinfo=UTC)]
    assert [f.day for f in files_for(listing, west, -5 * one)] == [
        date(2026, 1, 14),
        date(2026, 1, 15),
    ]
    days = [datetime(2026, 1, 12, 22, tzinfo=UTC) + HOUR * n for n in range(50)]
    assert [f.day for f in files_for(listing, days, timedelta(0))] == [
        date(2026, 1, 12),
        date(2026, 1, 13),
        date(2026, 1, 14),
    ]


def _meta(unit: str | None, *, has_sum: bool = True) -> dict:
    return {
        "has_mean": False,
        "mean_type": 0,
        "has_sum": has_sum,
        "name": None,
        "source": "recorder",
        "statistic_id": "sensor.x",
        "unit_of_measurement": unit,
    }


def test_series_units_and_metadata() -> None:
    """Statistics kept in Wh (or MWh) convert; other units and mean-only ones are not used."""
    wh = Series("energy_import", "sensor.x", "kWh", _meta("Wh"))
    assert wh.usable
    assert wh.to_unit(1.5) == pytest.approx(1500)
    assert wh.to_native(2500) == pytest.approx(2.5)
    assert "has_mean" not in wh.import_metadata()
    assert wh.import_metadata()["unit_of_measurement"] == "Wh"
    kwh = Series("energy_import", "sensor.x", "kWh", _meta("kWh"))
    assert kwh.to_unit(1.5) == 1.5
    assert kwh.to_native(1.5) == 1.5
    assert not Series("energy_import", "sensor.x", "kWh", _meta("m³")).usable
    assert not Series("energy_import", "sensor.x", "kWh", _meta("kWh", has_sum=False)).usable
    assert not Series("energy_import", "sensor.x", "kWh").usable
    assert Series("reactive_energy_import", "sensor.x", "kvarh", _meta("kvarh")).usable
    assert not Series("reactive_energy_import", "sensor.x", "kvarh", _meta("varh")).usable


def test_device_offset() -> None:
    """The device's offset as its clock shows it; unknown until learnt; UTC without a zone."""

    class Client:
        def __init__(self, tz: Any) -> None:
            self.tz = tz

    zone = DeviceZone()
    assert device_offset(Client(zone)) is None
    local = datetime(2026, 1, 15, 13, 0, tzinfo=UTC).replace(tzinfo=None)  # the wall clock
    zone.observe(local, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert device_offset(Client(zone)) == timedelta(hours=1)
    assert device_offset(Client(None)) == timedelta(0)
    assert device_offset(Client(timezone(timedelta(hours=-5)))) == timedelta(hours=-5)
