"""TotalsGuard: a meter exchange is followed (by the meter's id at once, or by a confirmed fall).

A young meter never gives three readings within 0.1 % of each other: its readings must still be
followed once they count on consistently; a glitch of the same meter stays held.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from custom_components.whatwatt.api.models import MeterInfo, Report, Volume
from custom_components.whatwatt.api.totals import (
    CONFIRM_READINGS,
    ENERGY_KEYS,
    MAX_JUMP,
    TotalsGuard,
    meter_identity,
)

OLD = 7135.255  # the old meter's import register when it was taken out


class Exchanges(list[tuple[str | None, str | None]]):
    """The exchanges a guard announced."""

    def __call__(self, old: str | None, new: str | None) -> None:
        self.append((old, new))


@pytest.fixture
def exchanges() -> Exchanges:
    return Exchanges()


@pytest.fixture
def guard(exchanges: Exchanges, caplog: pytest.LogCaptureFixture) -> TotalsGuard:
    caplog.set_level(logging.INFO)
    return TotalsGuard("Kitchen meter", on_exchange=exchanges)


def reading(meter_id: str | None = None, /, **values: float) -> Report:
    meter = MeterInfo(status="OK", meter_id=meter_id) if meter_id else None
    return Report(values={"power_import": 0.9, **values}, meter=meter)


def imports(guard: TotalsGuard, value: float, meter_id: str | None = None) -> float:
    checked = guard.check(reading(meter_id, energy_import=value, energy_export=0.0))
    return checked.values["energy_import"]


def test_identity_is_the_id_else_the_serial() -> None:
    assert meter_identity(MeterInfo(meter_id="12345678", serial="LGZ1")) == "12345678"
    assert meter_identity(MeterInfo(serial="LGZ1")) == "LGZ1"
    assert meter_identity(MeterInfo()) is None
    assert meter_identity(None) is None


def test_a_young_meter_is_followed_after_the_confirmation_readings(
    guard: TotalsGuard, exchanges: Exchanges
) -> None:
    """No id: the new meter counts from 1.25 kWh by 1 % a reading and wins with its third."""
    guard.check(reading(energy_import=OLD, energy_export=812.0))
    new_meter = [1.25, 1.2625, 1.275, 1.3, 3.1]
    shown = [imports(guard, value) for value in new_meter]
    assert shown == [OLD] * (CONFIRM_READINGS - 1) + new_meter[CONFIRM_READINGS - 1 :]
    assert exchanges == [(None, None)]
    # The export register (812 before) waits for the new meter to count: its first value is taken.
    assert guard.last_good("energy_export") == 812.0
    checked = guard.check(reading(energy_import=3.2, energy_export=0.001))
    assert (checked.values["energy_import"], checked.values["energy_export"]) == (3.2, 0.001)
    assert exchanges == [(None, None)]


def test_a_fall_is_an_exchange_once_counting_on(guard: TotalsGuard, exchanges: Exchanges) -> None:
    """A young meter with a flat reading in between still counts on consistently.

    The readings name the meter as before (a meter whose id did not change): both ids are that.
    """
    guard.check(reading("LGZ1", energy_import=OLD))
    values = [0.5, 0.5, 0.75]
    assert [imports(guard, value, "LGZ1") for value in values] == [OLD, OLD, 0.75]
    assert exchanges == [("LGZ1", "LGZ1")]
    assert imports(guard, 0.8, "LGZ1") == 0.8
    assert exchanges == [("LGZ1", "LGZ1")]  # the same identity afterwards: no second exchange


@pytest.mark.parametrize(
    "glitches",
    [[0.0], [12.5], [0.0, 12.5], [3.2, 1500.0, 3.3], [12.5, 11.0, 12.6]],
    ids=["zero", "garbage", "zero-garbage", "wild", "not-rising"],
)
def test_a_glitch_of_the_same_meter_is_held(
    guard: TotalsGuard, exchanges: Exchanges, glitches: list[float]
) -> None:
    imports(guard, OLD)
    assert [imports(guard, value) for value in glitches] == [OLD] * len(glitches)
    assert imports(guard, OLD + 0.01) == OLD + 0.01
    assert exchanges == []


def test_a_new_meter_id_is_an_exchange_at_once(guard: TotalsGuard, exchanges: Exchanges) -> None:
    """Every total follows the new meter with its first value above zero."""
    old = dict.fromkeys(ENERGY_KEYS, 500.0)
    guard.check(reading("OLD-1", **old))
    new = {**dict.fromkeys(ENERGY_KEYS, 0.0), "energy_import": 0.002}
    checked = guard.check(reading("NEW-2", **new))
    assert {key: checked.values[key] for key in ENERGY_KEYS} == {**old, "energy_import": 0.002}
    assert exchanges == [("OLD-1", "NEW-2")]
    later = guard.check(reading("NEW-2", **dict.fromkeys(ENERGY_KEYS, 0.003)))
    assert {key: later.values[key] for key in ENERGY_KEYS} == dict.fromkeys(ENERGY_KEYS, 0.003)
    # A glitch of the new meter is held against the new meter's values.
    assert imports(guard, 0.0, "NEW-2") == 0.003
    assert imports(guard, 0.001, "NEW-2") == 0.003
    assert imports(guard, 0.004, "NEW-2") == 0.004
    assert exchanges == [("OLD-1", "NEW-2")]


def test_an_unusable_value_of_the_new_meter_is_held(guard: TotalsGuard) -> None:
    guard.check(reading("OLD-1", energy_import=500.0, energy_export=20.0))
    checked = guard.check(reading("NEW-2", energy_import=0.5, energy_export=-1.0))
    assert checked.values["energy_import"] == 0.5
    assert checked.values["energy_export"] == 20.0
    checked = guard.check(reading("NEW-2", energy_import=0.5, energy_export=0.25))
    assert checked.values["energy_export"] == 0.25


def test_the_device_read_shows_the_exchange(guard: TotalsGuard, exchanges: Exchanges) -> None:
    """Live readings carry no id: the device read does; the next reading is the new meter's."""
    guard.follow_meter(MeterInfo(serial="LGZ1"))
    imports(guard, OLD)
    guard.follow_meter(MeterInfo(serial="LGZ1"))
    assert exchanges == []
    guard.follow_meter(MeterInfo(serial="LGZ2"))
    assert exchanges == [("LGZ1", "LGZ2")]
    assert imports(guard, 0.25) == 0.25
    assert imports(guard, 0.0) == 0.25  # and a zero of the new meter is held again
    guard.follow_meter(MeterInfo(serial="LGZ2"))
    assert exchanges == [("LGZ1", "LGZ2")]


def test_one_exchange_for_a_fall_and_the_id_seen_later(
    guard: TotalsGuard, exchanges: Exchanges
) -> None:
    """The fall was confirmed first; the device read then shows the new id: announced once.

    A device read from before the exchange (handed over again) shows the old id: ignored.
    """
    guard.follow_meter(MeterInfo(serial="LGZ1"))
    imports(guard, OLD)
    for value in (1.0, 1.01, 1.02):
        imports(guard, value)
    guard.follow_meter(MeterInfo(serial="LGZ1"))
    guard.follow_meter(MeterInfo(serial="LGZ2"))
    assert imports(guard, 1.03) == 1.03
    assert exchanges == [("LGZ1", None)]


def test_sources_are_compared_each_with_itself(guard: TotalsGuard, exchanges: Exchanges) -> None:
    """The device read may name the meter otherwise than the readings: no exchange for that."""
    guard.follow_meter(MeterInfo(serial="E350"))
    imports(guard, OLD, "12345678")
    guard.follow_meter(MeterInfo(serial="E350"))
    assert imports(guard, OLD + 0.5, "12345678") == OLD + 0.5
    assert exchanges == []


def test_seeds_do_not_apply_to_the_new_meter(guard: TotalsGuard) -> None:
    guard.check(reading("OLD-1", energy_import=OLD))
    report = guard.check(reading("NEW-2", energy_import=0.5))
    assert guard.late_seed(report, "energy_import", OLD) is report
    assert guard.last_good("energy_import") == 0.5


def test_sub_meters_are_not_exchanged(guard: TotalsGuard) -> None:
    """An exchange of the electricity meter leaves the gas meter's counter as it is."""
    gas = {1: Volume(1, "G1", 321.5)}
    guard.check(Report(values={"energy_import": OLD}, meter=MeterInfo(meter_id="A"), volumes=gas))
    lower = {1: Volume(1, "G1", 300.0)}
    checked = guard.check(
        Report(values={"energy_import": 0.1}, meter=MeterInfo(meter_id="B"), volumes=lower)
    )
    assert checked.values["energy_import"] == 0.1
    assert checked.volumes is not None
    assert checked.volumes[1].cumulative == 321.5


def test_a_confirmed_jump_is_no_exchange(guard: TotalsGuard, exchanges: Exchanges) -> None:
    imports(guard, OLD)
    high = OLD + 3 * MAX_JUMP
    assert [imports(guard, high + n) for n in range(CONFIRM_READINGS)][-1] == high + 2
    assert exchanges == []


def test_the_exchange_is_logged(guard: TotalsGuard, caplog: Any) -> None:
    guard.check(reading("OLD-1", energy_import=OLD))
    guard.check(reading("NEW-2", energy_import=0.5))
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("exchanged" in text and "OLD-1 became NEW-2" in text for text in infos)


def test_after_a_restart_the_old_id_is_unknown(guard: TotalsGuard, exchanges: Exchanges) -> None:
    """Home Assistant restarted after the exchange: the seeds are the old meter's, the device read
    already names the new one; the old id was never seen with a good reading."""
    guard.seed("energy_import", OLD)
    guard.follow_meter(MeterInfo(serial="LGZ2"))
    assert [imports(guard, value) for value in (1.0, 1.01, 1.02)] == [OLD, OLD, 1.02]
    assert exchanges == [(None, "LGZ2")]
