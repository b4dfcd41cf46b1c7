"""TotalsGuard on the sub-meters' counters (``volume_<bus>``): the energy totals' rules."""

from __future__ import annotations

import logging

import pytest

from custom_components.whatwatt.api.models import Report, Volume
from custom_components.whatwatt.api.totals import (
    CONFIRM_READINGS,
    MAX_JUMP,
    TotalsGuard,
    is_volume_key,
    volume_key,
)

LOGGER_NAME = "custom_components.whatwatt.api.totals"


def reading(*counters: float | None, energy: float | None = None) -> Report:
    """Return a reading with sub-meters on buses 1, 2 ... holding these counters."""
    volumes = {
        bus: Volume(bus=bus, meter_id=f"M{bus}", cumulative=value)
        for bus, value in enumerate(counters, start=1)
    }
    values = {"energy_import": energy} if energy is not None else {}
    return Report(values=values, device_id="A1B2C3D4E5F6", volumes=volumes)


def counter(guard: TotalsGuard, value: float | None, bus: int = 1) -> float | None:
    report = guard.check(reading(*([None] * (bus - 1)), value))
    assert report.volumes is not None
    return report.volumes[bus].cumulative


@pytest.fixture
def guard(caplog: pytest.LogCaptureFixture) -> TotalsGuard:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return TotalsGuard("Kitchen meter")


def test_keys() -> None:
    assert volume_key(2) == "volume_2"
    assert is_volume_key("volume_2")
    assert not is_volume_key("volume_2_capture_time")
    assert not is_volume_key("volume_")
    assert not is_volume_key("energy_import")


def test_good_readings_pass_unchanged(guard: TotalsGuard) -> None:
    first = reading(321.5, 10.0, energy=5120.0)
    assert guard.check(first) is first
    second = reading(321.6, 10.0, energy=5120.1)
    assert guard.check(second) is second
    without = Report(values={"energy_import": 5120.2})
    assert guard.check(without) is without


def test_zero_keeps_last_good(guard: TotalsGuard, caplog: pytest.LogCaptureFixture) -> None:
    """A gas counter reading zero (a reboot before the first telegram) is held, logged once."""
    assert counter(guard, 321.5) == 321.5
    for _ in range(CONFIRM_READINGS + 2):
        assert counter(guard, 0.0) == 321.5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sub-meter counter volume_1" in warnings[0]
    assert "reads zero" in warnings[0]
    assert counter(guard, 321.7) == 321.7


def test_backwards_and_jumps_need_confirming(guard: TotalsGuard) -> None:
    """A replaced sub-meter is taken once three readings agree; a one-off jump is not."""
    counter(guard, 321.5)
    assert counter(guard, 321.5 + MAX_JUMP + 1) == 321.5
    assert counter(guard, 321.6) == 321.6
    for _ in range(CONFIRM_READINGS - 1):
        assert counter(guard, 2.5) == 321.6
    assert counter(guard, 2.5) == 2.5


def test_buses_are_guarded_apart(guard: TotalsGuard) -> None:
    report = guard.check(reading(321.5, 10.0))
    report = guard.check(reading(0.0, 10.5))
    assert report.volumes is not None
    assert report.volumes[1] == Volume(bus=1, meter_id="M1", cumulative=321.5)
    assert report.volumes[2].cumulative == 10.5


def test_negative_first_value_has_no_value(guard: TotalsGuard) -> None:
    """Nothing to hold a negative first value against: the sub-meter stays, without a value."""
    report = guard.check(reading(-1.0))
    assert report.volumes == {1: Volume(bus=1, meter_id="M1", cumulative=None)}


def test_seed(guard: TotalsGuard) -> None:
    """The counter Home Assistant recorded holds a glitch in the first reading after a restart."""
    assert guard.seed("volume_1", 321.5)
    assert not guard.seed("volume_x", 1.0)
    assert counter(guard, 0.0) == 321.5
    assert counter(guard, 321.6) == 321.6


@pytest.mark.parametrize("first", [0.0, 2.5, 321.5 + MAX_JUMP + 1])
def test_late_seed_holds_the_first_counter(guard: TotalsGuard, first: float) -> None:
    """Seeded after the first reading: judged as if the seed had come first, the reading fixed."""
    report = guard.check(reading(first, 10.0))
    fixed = guard.late_seed(report, "volume_1", 321.5)
    assert fixed.volumes is not None
    assert fixed.volumes[1] == Volume(bus=1, meter_id="M1", cumulative=321.5)
    assert fixed.volumes[2].cumulative == 10.0
    assert counter(guard, 321.6) == 321.6


def test_late_seed_lets_a_good_counter_stand(guard: TotalsGuard) -> None:
    report = guard.check(reading(321.6))
    assert guard.late_seed(report, "volume_1", 321.5) is report
    assert counter(guard, 0.0) == 321.6


def test_late_seed_fills_a_counter_left_without_value(guard: TotalsGuard) -> None:
    report = guard.check(reading(-1.0))
    fixed = guard.late_seed(report, "volume_1", 321.5)
    assert fixed.volumes == {1: Volume(bus=1, meter_id="M1", cumulative=321.5)}


def test_late_seed_of_a_sub_meter_not_in_the_reading(guard: TotalsGuard) -> None:
    """A bus the reading does not carry, or carries without a counter, stays as it is."""
    report = guard.check(reading(321.5, None))
    assert guard.late_seed(report, "volume_3", 10.0) is report  # not on the bus
    assert guard.late_seed(report, "volume_2", 11.0) is report  # no counter in the reading
    assert guard.last_good("volume_2") == 11.0


def test_late_seed_after_a_reading_without_sub_meters(guard: TotalsGuard) -> None:
    """The first counter is held by the late seed; the current reading has no sub-meters."""
    guard.check(reading(0.0))
    other = guard.check(Report(values={"energy_import": 1.0}))  # a template without them
    assert guard.late_seed(other, "volume_1", 321.5) is other
    assert counter(guard, 0.0) == 321.5
