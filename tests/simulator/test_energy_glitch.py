"""The ``energy_glitch`` fault: one report per path with energy registers at 0 or garbage."""

from __future__ import annotations

import pytest

from simulator.glitch import ENERGY_REGISTERS, EnergyGlitch

from .helpers import get_json, next_live_event, post_json

ACTIVE = ("positive", "negative")
TARIFFS = ("total", "t1", "t2")


def active_energy(report: dict) -> dict[str, float]:
    energy = report["report"]["energy"]["active"]
    return {f"{side}.{t}": energy[side][t] for side in ACTIVE for t in TARIFFS}


async def test_rest_glitch_one_register_zero_then_normal(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, profile="p1-single")
    await sim.emit_telegram()
    normal = active_energy(sim.state.report)
    body = {"energy_glitch": {"kind": "zero", "registers": ["1_8_0"], "paths": ["report"]}}
    status, answer = await post_json(session, f"{sim.url}/_sim/faults", body)
    assert status == 200
    assert answer["energy_glitch"] == {
        "kind": "zero",
        "registers": ["1_8_0"],
        "value": 1e9,
        "paths": ["report"],
    }
    glitched = active_energy(await get_json(session, f"{sim.url}/api/v1/report"))
    assert glitched == normal | {"positive.total": 0}
    assert sim.faults.energy_glitch is None  # taken
    assert active_energy(await get_json(session, f"{sim.url}/api/v1/report")) == normal
    assert active_energy(sim.state.report) == normal  # the stored report never changed


@pytest.mark.parametrize(("value", "expected"), [(None, 1e9), (-42.5, -42.5)])
async def test_rest_glitch_all_registers_garbage(simulator_factory, session, value, expected):
    sim = await simulator_factory(telegram_interval=0, profile="dlms-three")
    first = await sim.emit_telegram()
    glitch = {"kind": "garbage", "paths": ["report"]}
    if value is not None:
        glitch["value"] = value
    sim.faults.update({"energy_glitch": glitch})
    data = await get_json(session, f"{sim.url}/api/v1/report")
    energy = data["report"]["energy"]
    assert energy["active"]["positive"] == {"total": expected}
    assert energy["active"]["negative"] == {"total": expected}
    assert energy["reactive"]["positive"] == {"total": expected}
    assert energy["reactive"]["negative"] == {"total": expected}
    assert "imported" not in energy["reactive"]  # absent registers stay absent
    assert data["report"]["instantaneous_power"] == first["report"]["instantaneous_power"]
    assert data["report"]["max_demand"] == first["report"]["max_demand"]
    after = await get_json(session, f"{sim.url}/api/v1/report")
    assert after["report"]["energy"] == first["report"]["energy"]


async def test_glitch_waits_for_a_report_with_values(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    sim.faults.energy_glitch = {"kind": "zero", "paths": ["report", "live"]}
    skeleton = await get_json(session, f"{sim.url}/api/v1/report")  # no telegram yet
    assert "energy" not in skeleton["report"]
    await sim.emit_telegram()  # no live subscriber: nothing sent, nothing taken
    assert sim.faults.energy_glitch == EnergyGlitch("zero", paths=("report", "live"))
    data = await get_json(session, f"{sim.url}/api/v1/report")
    assert data["report"]["energy"]["active"]["positive"]["total"] == 0
    assert sim.faults.energy_glitch.paths == ("live",)


async def test_live_glitch_exactly_one_event(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0, profile="p1-single")
    sim.faults.energy_glitch = EnergyGlitch(
        "garbage", registers=("1_8_1", "2_8_0"), paths=("live",)
    )
    async with session.get(f"{sim.url}/api/v1/live") as resp:
        await sim.live.wait_clients(1)
        first = (await sim.emit_telegram())["report"]
        bad = await next_live_event(resp)
        second = (await sim.emit_telegram())["report"]
        good = await next_live_event(resp)
    assert bad["E_In_T1"] == 1e9
    assert bad["E_Out"] == 1e9
    assert bad["E_In"] == first["energy"]["active"]["positive"]["total"]
    assert bad["P_In"] == first["instantaneous_power"]["active"]["positive"]["total"]
    assert good["E_In_T1"] == second["energy"]["active"]["positive"]["t1"]
    assert good["E_Out"] == second["energy"]["active"]["negative"]["total"]
    assert first["energy"]["active"]["positive"]["t1"] < 1e9  # REST never saw it
    assert sim.faults.energy_glitch is None


async def test_default_paths_are_taken_one_by_one(simulator_factory, session):
    sim = await simulator_factory(telegram_interval=0)
    await post_json(session, f"{sim.url}/_sim/faults", {"energy_glitch": {"kind": "zero"}})
    assert sim.faults.energy_glitch.paths == ("report", "live", "mqtt")
    assert set(sim.faults.energy_glitch.registers) == set(ENERGY_REGISTERS)
    await sim.emit_telegram()
    await get_json(session, f"{sim.url}/api/v1/report")
    faults = await get_json(session, f"{sim.url}/_sim/faults")
    assert faults["energy_glitch"]["paths"] == ["live", "mqtt"]
    assert faults["energy_glitch"]["registers"] == "all"
    sim.faults.clear()
    assert sim.faults.energy_glitch is None


@pytest.mark.parametrize(
    "glitch",
    [
        {"kind": "weird"},
        {"registers": ["1_8_0"]},
        {"kind": "zero", "registers": ["1_7_0"]},
        {"kind": "zero", "registers": []},
        {"kind": "zero", "paths": ["modbus"]},
        {"kind": "garbage", "value": "lots"},
        {"kind": "zero", "extra": 1},
        "zero",
    ],
)
async def test_glitch_rejects_bad_switches(simulator_factory, session, glitch):
    sim = await simulator_factory(telegram_interval=0)
    status, body = await post_json(session, f"{sim.url}/_sim/faults", {"energy_glitch": glitch})
    assert status == 400
    assert "energy_glitch" in body["message"]
    assert sim.faults.energy_glitch is None
