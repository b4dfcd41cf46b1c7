"""TotalsGuard: energy totals never go to zero, backwards, negative or jump, whatever the boot."""

from __future__ import annotations

from functools import partial
import logging
from typing import Any

import pytest

from custom_components.whatwatt.api.models import MEASUREMENT_KEYS, MeterInfo, Report
from custom_components.whatwatt.api.totals import (
    CONFIRM_READINGS,
    CONFIRM_TOLERANCE,
    ENERGY_KEYS,
    MAX_JUMP,
    TotalsGuard,
)

from .helpers import log_messages

LOGGER_NAME = "custom_components.whatwatt.api.totals"
BOOT_A, BOOT_B = "5E2A91C0", "77D0AB12"


def reading(boot_id: str | None = BOOT_A, /, **values: float) -> Report:
    return Report(
        values={"power_import": 1.2, **values},
        device_id="A1B2C3D4E5F6",
        boot_id=boot_id,
        tariff=1,
        meter=MeterInfo(status="OK"),
        rejected=("u1",),
    )


_warnings = partial(log_messages, logger=LOGGER_NAME, level=logging.WARNING)
_infos = partial(log_messages, logger=LOGGER_NAME, level=logging.INFO)


@pytest.fixture
def guard(caplog: pytest.LogCaptureFixture) -> TotalsGuard:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return TotalsGuard("Kitchen meter")


def energy(guard: TotalsGuard, value: float, boot_id: str | None = BOOT_A) -> float:
    return guard.check(reading(boot_id, energy_import=value)).values["energy_import"]


def test_energy_keys() -> None:
    assert set(ENERGY_KEYS) == {
        k for k in MEASUREMENT_KEYS if k.startswith(("energy_", "reactive_energy_"))
    }
    assert len(ENERGY_KEYS) == 8
    assert "max_demand_import" not in ENERGY_KEYS


def test_rising_totals_pass_unchanged(guard: TotalsGuard, caplog: Any) -> None:
    for value in (5000.0, 5000.0, 5000.5, 5001.25, 5001.25 + MAX_JUMP):
        report = reading(energy_import=value, energy_export=10.0)
        assert guard.check(report) is report
    assert guard.last_good("energy_import") == 5001.25 + MAX_JUMP
    assert _warnings(caplog) == []


def test_report_without_energy_passes(guard: TotalsGuard) -> None:
    report = reading()
    assert guard.check(report) is report
    empty = Report()
    assert guard.check(empty) is empty
    assert guard.last_good("energy_import") is None


def test_first_value_is_taken_as_it_is(guard: TotalsGuard) -> None:
    assert energy(guard, 0.0) == 0.0
    assert energy(guard, 0.0) == 0.0  # a register at zero stays at zero without complaint
    assert energy(guard, 0.5) == 0.5


def test_backwards_keeps_last_good(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    report = guard.check(reading(energy_import=4000.0, energy_export=20.0))
    assert report.values["energy_import"] == 5000.0
    assert report.values["energy_export"] == 20.0
    # the report otherwise passes: other values, metadata and rejected untouched
    assert report.values["power_import"] == 1.2
    assert (report.tariff, report.meter, report.rejected) == (1, MeterInfo(status="OK"), ("u1",))
    assert report.device_id == "A1B2C3D4E5F6"
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "energy_import" in warnings[0]
    assert "backwards" in warnings[0]
    assert "Kitchen meter" in warnings[0]


def test_small_step_backwards_is_also_kept(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    assert energy(guard, 4999.999) == 5000.0


def test_zero_keeps_last_good(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    assert energy(guard, 0.0) == 5000.0
    assert "reads zero" in _warnings(caplog)[0]


def test_zero_is_never_confirmed(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    for _ in range(CONFIRM_READINGS * 3):
        assert energy(guard, 0.0) == 5000.0
    assert len(_warnings(caplog)) == 1
    assert _infos(caplog) == []


def test_zero_after_reboot_is_rejected(guard: TotalsGuard) -> None:
    """The device restarted and has no telegram yet: zeros with a new boot id."""
    energy(guard, 5000.0, BOOT_A)
    assert energy(guard, 0.0, BOOT_B) == 5000.0
    assert energy(guard, 0.0, BOOT_B) == 5000.0
    assert energy(guard, 5000.25, BOOT_B) == 5000.25


def test_garbage_jump_keeps_last_good(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    assert energy(guard, 5000.0 + MAX_JUMP + 0.01) == 5000.0
    assert energy(guard, 9.9e12) == 5000.0
    assert energy(guard, 5000.5) == 5000.5
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "jumped" in warnings[0]


def test_non_finite_keeps_last_good(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    for _ in range(CONFIRM_READINGS + 1):
        assert energy(guard, float("nan")) == 5000.0
        assert energy(guard, float("inf")) == 5000.0
    assert energy(guard, 5001.0) == 5001.0


def test_non_finite_first_value_is_not_a_baseline(guard: TotalsGuard) -> None:
    report = guard.check(reading(energy_import=float("nan"), energy_export=3.0))
    assert dict(report.values) == {"power_import": 1.2, "energy_export": 3.0}  # left out
    assert guard.last_good("energy_import") is None
    assert energy(guard, 5000.0) == 5000.0
    assert energy(guard, 0.0) == 5000.0


def test_negative_value_is_never_accepted(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    for _ in range(CONFIRM_READINGS * 2):
        assert energy(guard, -5.0) == 5000.0
    assert guard.last_good("energy_import") == 5000.0
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "negative" in warnings[0]
    assert _infos(caplog) == []
    assert energy(guard, 5000.5) == 5000.5


def test_negative_first_value_is_left_out(guard: TotalsGuard, caplog: Any) -> None:
    """Nothing to put in its place: the register is missing from the reading."""
    for _ in range(CONFIRM_READINGS + 1):
        report = guard.check(reading(energy_import=-5.0, energy_export=3.0))
        assert dict(report.values) == {"power_import": 1.2, "energy_export": 3.0}
        assert report.rejected == ("u1",)
    assert guard.last_good("energy_import") is None
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "negative" in warnings[0]
    assert "left out" in warnings[0]
    assert energy(guard, 12.5) == 12.5  # the first usable value is taken as it is
    assert any("good again" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


def test_negative_value_ends_a_confirmation_series(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    energy(guard, 12.5)
    energy(guard, 12.5)
    assert energy(guard, -12.5) == 5000.0
    assert energy(guard, 12.5) == 5000.0
    assert energy(guard, 12.5) == 5000.0
    assert energy(guard, 12.5) == 12.5


@pytest.mark.parametrize("value", [12.5, -5.0, 0.0])
def test_reboot_does_not_accept_a_lower_value(guard: TotalsGuard, value: float) -> None:
    """The registers live in the meter: a new boot id of the whatwatt Go proves no reset."""
    energy(guard, 5000.0, BOOT_A)
    assert energy(guard, value, BOOT_B) == 5000.0
    assert energy(guard, 5000.25, BOOT_B) == 5000.25
    assert guard.last_good("energy_import") == 5000.25


def test_lower_value_after_reboot_needs_confirmation(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0, BOOT_A)
    for _ in range(CONFIRM_READINGS - 1):
        assert energy(guard, 12.5, BOOT_B) == 5000.0
    assert energy(guard, 12.5, BOOT_B) == 12.5
    assert len(_warnings(caplog)) == 1
    infos = _infos(caplog)
    assert len(infos) == 1
    assert "reset" in infos[0]
    assert f"{CONFIRM_READINGS} readings agree" in infos[0]


def test_lower_value_in_the_same_boot_is_not_a_reset(guard: TotalsGuard) -> None:
    energy(guard, 5000.0, BOOT_A)
    assert energy(guard, 12.5, BOOT_A) == 5000.0


def test_reboot_does_not_excuse_a_jump(guard: TotalsGuard) -> None:
    energy(guard, 5000.0, BOOT_A)
    assert energy(guard, 5000.0 + 2 * MAX_JUMP, BOOT_B) == 5000.0


# -- seeded from what Home Assistant last recorded ----------------------------------------


@pytest.mark.parametrize("glitch", [0.0, 1e9, -5.0, 4000.0, float("nan")])
def test_seeded_value_holds_a_glitch_in_the_first_reading(
    guard: TotalsGuard, caplog: Any, glitch: float
) -> None:
    assert guard.seed("energy_import", 5000.0)
    assert guard.last_good("energy_import") == 5000.0
    assert energy(guard, glitch) == 5000.0
    assert len(_warnings(caplog)) == 1
    assert energy(guard, 5000.5) == 5000.5


def test_seeded_value_is_followed_by_a_good_reading(guard: TotalsGuard, caplog: Any) -> None:
    guard.seed("energy_import", 5000.0)
    report = reading(energy_import=5003.5)
    assert guard.check(report) is report
    assert guard.last_good("energy_import") == 5003.5
    assert _warnings(caplog) == []


def test_seeded_value_yields_to_a_confirmed_reset(guard: TotalsGuard) -> None:
    """A meter replaced while Home Assistant was down: the new register wins after N readings."""
    guard.seed("energy_import", 5000.0)
    assert [energy(guard, 12.5) for _ in range(CONFIRM_READINGS)] == [5000.0, 5000.0, 12.5]


def test_seed_of_zero_is_a_baseline(guard: TotalsGuard) -> None:
    assert guard.seed("energy_export", 0.0)
    report = guard.check(reading(energy_export=0.0))
    assert report.values["energy_export"] == 0.0


def test_seed_never_overrides_a_reading(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    assert not guard.seed("energy_import", 4000.0)
    assert guard.last_good("energy_import") == 5000.0
    assert guard.seed("energy_export", 800.0)
    assert not guard.seed("energy_export", 900.0)  # the first seed stands
    assert guard.last_good("energy_export") == 800.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("energy_import", -1.0),
        ("energy_import", float("nan")),
        ("energy_import", float("inf")),
        ("power_import", 1.0),
        ("max_demand_import", 7.8),
        ("no_such_key", 1.0),
    ],
)
def test_unusable_seed_is_ignored(guard: TotalsGuard, key: str, value: float) -> None:
    assert not guard.seed(key, value)
    assert guard.last_good(key) is None
    assert energy(guard, 12.5) == 12.5  # a first reading is taken as it is


def test_unseeded_register_takes_its_first_value(guard: TotalsGuard) -> None:
    """Seeding one register changes nothing for another."""
    guard.seed("energy_import", 5000.0)
    report = guard.check(reading(energy_import=5000.0, energy_export=1e9))
    assert report.values["energy_export"] == 1e9


def test_confirmed_reset_after_n_readings(guard: TotalsGuard, caplog: Any) -> None:
    energy(guard, 5000.0)
    for _ in range(CONFIRM_READINGS - 1):
        assert energy(guard, 12.5) == 5000.0
    assert energy(guard, 12.5) == 12.5
    assert guard.last_good("energy_import") == 12.5
    assert energy(guard, 12.75) == 12.75
    assert len(_warnings(caplog)) == 1
    assert len(_infos(caplog)) == 1


def test_confirmation_tolerates_a_counting_meter(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    base = 400.0
    steps = [base, base * (1 + CONFIRM_TOLERANCE / 2), base * (1 + CONFIRM_TOLERANCE)]
    results = [energy(guard, value) for value in steps]
    assert results == [5000.0, 5000.0, steps[-1]]


def test_confirmation_needs_agreeing_readings(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    assert energy(guard, 400.0) == 5000.0
    assert energy(guard, 400.0 * (1 + 2 * CONFIRM_TOLERANCE)) == 5000.0  # starts a new series
    assert energy(guard, 100.0) == 5000.0  # and another
    assert energy(guard, 100.0) == 5000.0
    assert energy(guard, 100.0) == 100.0


@pytest.mark.parametrize("interruption", [0.0, 5000.5], ids=["zero", "good"])
def test_confirmation_must_be_consecutive(guard: TotalsGuard, interruption: float) -> None:
    energy(guard, 5000.0)
    energy(guard, 12.5)
    energy(guard, 12.5)
    energy(guard, interruption)
    last = guard.last_good("energy_import")
    assert energy(guard, 12.5) == last
    assert energy(guard, 12.5) == last
    assert energy(guard, 12.5) == 12.5


def test_confirmed_jump_is_accepted(guard: TotalsGuard) -> None:
    """A long gap with a big consumer: a persistent big rise wins after N readings."""
    energy(guard, 5000.0)
    high = 5000.0 + 3 * MAX_JUMP
    assert [energy(guard, high) for _ in range(CONFIRM_READINGS)] == [5000.0, 5000.0, high]


def test_log_once_per_register_until_good(guard: TotalsGuard, caplog: Any) -> None:
    guard.check(reading(energy_import=5000.0, energy_export=800.0))
    for _ in range(2):
        guard.check(reading(energy_import=0.0, energy_export=0.0))
        guard.check(reading(energy_import=4000.0, energy_export=700.0))
    warnings = _warnings(caplog)
    assert len(warnings) == 2  # one per register, whatever the kind
    assert sum("energy_import" in w for w in warnings) == 1
    assert sum("energy_export" in w for w in warnings) == 1
    # energy_import reads good again: its next glitch is logged again, energy_export's not
    guard.check(reading(energy_import=5001.0, energy_export=0.0))
    guard.check(reading(energy_import=0.0, energy_export=0.0))
    warnings = _warnings(caplog)
    assert len(warnings) == 3
    assert "energy_import" in warnings[-1]
    assert any("good again" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


def test_registers_are_independent(guard: TotalsGuard) -> None:
    values = dict.fromkeys(ENERGY_KEYS, 100.0)
    guard.check(reading(**values))
    glitch = {**values, "energy_export_t2": 0.0, "reactive_energy_import": 50.0}
    report = guard.check(reading(**glitch))
    assert dict(report.values) == {"power_import": 1.2, **values}


def test_check_does_not_change_the_input(guard: TotalsGuard) -> None:
    energy(guard, 5000.0)
    report = reading(energy_import=0.0)
    checked = guard.check(report)
    assert report.values["energy_import"] == 0.0
    assert checked.values["energy_import"] == 5000.0
    assert checked is not report


def test_device_id_names_the_device_without_a_name(caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    guard = TotalsGuard()
    guard.check(reading(energy_import=5000.0))
    guard.check(reading(energy_import=0.0))
    assert "A1B2C3D4E5F6" in _warnings(caplog)[0]


def test_other_values_are_never_guarded(guard: TotalsGuard) -> None:
    guard.check(reading(max_demand_import=7.8, energy_import=1.0))
    report = reading(max_demand_import=0.0, energy_import=1.0)
    assert guard.check(report) is report


# -- seeded late: the first reading came before the entity that restores the total --------


@pytest.mark.parametrize(
    ("first", "why"),
    [(0.0, "reads zero"), (4000.0, "backwards"), (5000.0 + MAX_JUMP + 1, "jumped")],
    ids=["zero", "lower", "jump"],
)
def test_late_seed_holds_an_unconfirmed_first_value(
    guard: TotalsGuard, caplog: Any, first: float, why: str
) -> None:
    """Judged as if the seed had come first: held, logged once, the reading shows the seed."""
    report = guard.check(reading(energy_import=first, energy_export=3.0))
    assert report.values["energy_import"] == first  # nothing to compare it with yet
    assert _warnings(caplog) == []
    assert guard.seed("energy_import", 5000.0)
    assert guard.last_good("energy_import") == 5000.0
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert why in warnings[0]
    assert "energy_import" in warnings[0]
    assert "last good value 5000.0 is kept" in warnings[0]
    assert energy(guard, 5000.5) == 5000.5  # reads good again
    assert len(_warnings(caplog)) == 1


def test_late_seed_report_shows_the_seed(guard: TotalsGuard) -> None:
    """``late_seed`` fixes the current reading too; the rest of it is untouched."""
    report = guard.check(reading(energy_import=0.0, energy_export=3.0))
    fixed = guard.late_seed(report, "energy_import", 5000.0)
    expected = {"power_import": 1.2, "energy_import": 5000.0, "energy_export": 3.0}
    assert dict(fixed.values) == expected
    assert (fixed.tariff, fixed.rejected, fixed.device_id) == (1, ("u1",), "A1B2C3D4E5F6")
    assert report.values["energy_import"] == 0.0  # the checked report itself is not changed


@pytest.mark.parametrize("first", [0.0, 4000.0, 1e9])
def test_late_seed_equals_an_early_seed(guard: TotalsGuard, first: float) -> None:
    """The same readings give the same values, the seed before or after the first of them."""
    early = TotalsGuard("Kitchen meter")
    early.seed("energy_import", 5000.0)
    values = [first, first, first, 5000.25]
    expected = [early.check(reading(energy_import=v)).values["energy_import"] for v in values]
    report = guard.late_seed(guard.check(reading(energy_import=first)), "energy_import", 5000.0)
    late = [report.values["energy_import"]]
    late += [energy(guard, v) for v in values[1:]]
    assert late == expected


def test_late_seed_first_value_starts_a_confirmation_series(guard: TotalsGuard) -> None:
    """A lower first value held by a late seed is the first of the readings that must agree."""
    report = guard.late_seed(guard.check(reading(energy_import=12.5)), "energy_import", 5000.0)
    assert report.values["energy_import"] == 5000.0
    for _ in range(CONFIRM_READINGS - 2):
        assert energy(guard, 12.5) == 5000.0
    assert energy(guard, 12.5) == 12.5  # CONFIRM_READINGS readings in all, the first included


@pytest.mark.parametrize("first", [5000.0, 5000.5, 5000.0 + MAX_JUMP])
def test_late_seed_lets_a_believable_first_value_stand(
    guard: TotalsGuard, caplog: Any, first: float
) -> None:
    report = guard.check(reading(energy_import=first))
    assert not guard.seed("energy_import", 5000.0)
    assert guard.last_good("energy_import") == first
    assert guard.late_seed(report, "energy_import", 5000.0) is report
    assert _warnings(caplog) == []
    assert energy(guard, 0.0) == first  # and it is now compared: a zero is held against it


def test_late_seed_fills_a_left_out_first_value(guard: TotalsGuard, caplog: Any) -> None:
    """A negative first value was left out (logged then): the seed takes its place."""
    report = guard.check(reading(energy_import=-5.0, energy_export=3.0))
    assert "energy_import" not in report.values
    fixed = guard.late_seed(report, "energy_import", 5000.0)
    assert fixed.values["energy_import"] == 5000.0
    assert guard.last_good("energy_import") == 5000.0
    assert len(_warnings(caplog)) == 1  # the one when it was left out
    assert energy(guard, 5000.5) == 5000.5


def test_late_seed_after_a_compared_reading_is_ignored(guard: TotalsGuard, caplog: Any) -> None:
    """A register that compared a reading with its good value ignores seeds, late or not."""
    energy(guard, 100.0)
    report = guard.check(reading(energy_import=0.0))  # held against 100.0
    assert not guard.seed("energy_import", 5000.0)
    assert guard.late_seed(report, "energy_import", 5000.0) is report
    assert guard.last_good("energy_import") == 100.0
    energy(guard, 100.5)
    assert not guard.seed("energy_import", 5000.0)
    assert guard.last_good("energy_import") == 100.5
    assert len(_warnings(caplog)) == 1  # the zero only


def test_late_seed_of_a_register_not_in_the_reading(guard: TotalsGuard) -> None:
    """A register the readings never carried is seeded as before them; the reading stays."""
    report = guard.check(reading(energy_import=10.0))
    assert guard.late_seed(report, "energy_export", 800.0) is report
    assert guard.last_good("energy_export") == 800.0
    assert guard.late_seed(report, "power_import", 1.0) is report  # no total: ignored


def test_late_seed_after_a_reading_without_the_register(guard: TotalsGuard) -> None:
    """The first value is held by the late seed; the current reading, without it, stays."""
    guard.check(reading(energy_import=0.0))
    other = guard.check(reading())
    assert guard.late_seed(other, "energy_import", 5000.0) is other
    assert energy(guard, 0.0) == 5000.0


def test_second_late_seed_is_ignored(guard: TotalsGuard) -> None:
    report = guard.late_seed(guard.check(reading(energy_import=0.0)), "energy_import", 5000.0)
    assert guard.late_seed(report, "energy_import", 6000.0) is report
    assert guard.last_good("energy_import") == 5000.0


def test_late_seed_names_the_device_of_the_reading(caplog: Any) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    guard = TotalsGuard()
    guard.late_seed(guard.check(reading(energy_import=0.0)), "energy_import", 5000.0)
    assert "A1B2C3D4E5F6" in _warnings(caplog)[0]
    unnamed = TotalsGuard()
    unnamed.check(reading(energy_import=0.0))
    unnamed.seed("energy_import", 5000.0)
    assert "whatwatt device" in _warnings(caplog)[1]
