"""Sub-meters of the simulated meter: profiles with one and two, hourly captures, every wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import random
from zoneinfo import ZoneInfo

import pytest

from simulator.config import PROFILES
from simulator.meter import MeterModel, live_event
from simulator.submeters import SubMeter, base_profile, profile_submeters, template_time
from simulator.variables import NUMERIC, build_variables

ZURICH = ZoneInfo("Europe/Zurich")
NOON = datetime(2026, 1, 15, 11, 30, 5, tzinfo=UTC)


def test_profiles() -> None:
    assert {"p1-gas", "dlms-water-heat"} <= set(PROFILES)
    assert base_profile("p1-gas") == "p1-single"
    assert base_profile("dlms-water-heat") == "dlms-three"
    assert base_profile("dlms-three") == "dlms-three"
    assert [m.bus for m in profile_submeters("p1-gas")] == [1]
    assert [m.bus for m in profile_submeters("dlms-water-heat")] == [1, 2]
    assert profile_submeters("p1-single") == []


def test_capture_is_hourly_and_rises_slowly() -> None:
    """Within the hour the captured value stands; each full hour brings a slightly higher one."""
    meter = SubMeter(1, "G1", 100.0, rate=0.2)
    rng = random.Random(1)
    meter.capture(NOON, rng)
    assert meter.captured == datetime(2026, 1, 15, 11, tzinfo=UTC)
    assert meter.entry(ZURICH) == {
        "bus": 1,
        "meter_id": "G1",
        "date_time": "2026-01-15T12:00:00",  # local, as the REST report prints it
        "cumulative": 100.0,
    }
    meter.capture(NOON + timedelta(minutes=29), rng)
    assert meter.cumulative == 100.0
    values = []
    for hours in range(1, 4):
        meter.capture(NOON + timedelta(hours=hours), rng)
        assert meter.captured == datetime(2026, 1, 15, 11 + hours, tzinfo=UTC)
        values.append(meter.cumulative)
    assert 100.0 < values[0] < values[1] < values[2] < 100.0 + 3 * 0.2 * 1.5 + 0.01


@pytest.mark.parametrize(("profile", "buses"), [("p1-gas", [1]), ("dlms-water-heat", [1, 2])])
async def test_reports_carry_the_submeters(simulator_factory, profile: str, buses: list[int]):
    """REST ``volume[]``, live ``Vol[]`` and the template's ``vol[n]`` (UTC) tell the same."""
    sim = await simulator_factory(telegram_interval=0, profile=profile, auth="none")
    report = await sim.emit_telegram()
    volume = report["report"]["volume"]
    assert [entry["bus"] for entry in volume] == buses
    assert sim.state.profile == base_profile(profile)  # the meter itself is the plain profile
    event = live_event(report, 3600, sim.state.local_now())
    assert [entry["Bus"] for entry in event["Vol"]] == buses
    assert event["Vol"][0]["DT"] == volume[0]["date_time"]
    assert event["Vol"][0]["Cum"] == volume[0]["cumulative"]
    variables = build_variables(sim.state)
    assert variables["vol[0].bus"] == buses[0]
    assert variables["vol[0].date_time"] == template_time(volume[0]["date_time"], sim.state.zone)
    assert str(variables["vol[0].date_time"]).endswith("Z")
    assert "vol[0].cumulative" in NUMERIC
    assert f"vol[{len(buses)}].bus" not in variables  # no such slot: left verbatim
    json.dumps(event)


async def test_submeters_come_and_go(simulator_factory) -> None:
    sim = await simulator_factory(telegram_interval=0, profile="p1-single", auth="none")
    assert "volume" not in (await sim.emit_telegram())["report"]
    sim.meter.add_submeter(3, "W1", cumulative=5.0)
    assert (await sim.emit_telegram())["report"]["volume"][0]["bus"] == 3
    sim.meter.remove_submeter(3)
    assert "volume" not in (await sim.emit_telegram())["report"]


def test_submeters_leave_the_meter_readings_alone() -> None:
    """Within the hour a sub-meter draws no randomness: seeded meter readings stay the same."""
    local = NOON.astimezone(ZURICH)
    plain = MeterModel("p1-single", rng=random.Random(7))
    with_gas = MeterModel("p1-single", rng=random.Random(7), submeters=profile_submeters("p1-gas"))
    for seconds in (0, 1, 2):
        moment = local + timedelta(seconds=seconds)
        body = with_gas.next_report(1.0, moment, ZURICH)
        assert body.pop("volume")[0]["cumulative"] == 4321.123
        assert body == plain.next_report(1.0, moment, ZURICH)


def test_template_time() -> None:
    assert template_time("2026-01-15T12:00:00", ZURICH) == "2026-01-15T11:00:00Z"
    assert template_time("2026-07-15T12:00:00Z", ZURICH) == "2026-07-15T10:00:00Z"
    assert template_time(None, ZURICH) is None
    assert template_time("soon", ZURICH) is None
