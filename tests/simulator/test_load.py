"""The demand profile: import power in steps, the register following it exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.meter import LoadSteps

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_steps_integrate_exactly() -> None:
    load = LoadSteps(steps=[(T0, 3.6), (T0 + timedelta(minutes=10), 1.2)], base_kw=0.5)
    assert load.power_at(T0 - timedelta(seconds=1)) == 0.5
    assert load.power_at(T0 + timedelta(minutes=10)) == 1.2
    # 5 min at 0.5 kW, 10 min at 3.6 kW, 5 min at 1.2 kW.
    energy = load.energy(T0 - timedelta(minutes=5), T0 + timedelta(minutes=15))
    assert energy == pytest.approx(0.5 / 12 + 3.6 / 6 + 1.2 / 12)
    load.hold(T0 + timedelta(minutes=5), 2.0)  # drops the later step
    assert load.steps == [(T0, 3.6), (T0 + timedelta(minutes=5), 2.0)]


async def _register(session, sim) -> float:
    async with session.get(f"{sim.url}/api/v1/report") as resp:
        data = await resp.json(content_type=None)
    return float(data["report"]["energy"]["active"]["positive"]["total"])


@pytest.mark.parametrize("profile", ["p1-single", "dlms-three"])
async def test_control_holds_a_power(simulator_factory, session, freezer, profile) -> None:
    """``POST /_sim/load``: the register advances by power times time between telegrams."""
    freezer.move_to(T0)
    sim = await simulator_factory(telegram_interval=0, profile=profile, seed=1)
    await sim.emit_telegram()
    async with session.post(f"{sim.url}/_sim/load", json={"kw": 3.6}) as resp:
        assert resp.status == 200
    await sim.emit_telegram()
    before = await _register(session, sim)
    freezer.tick(timedelta(minutes=10))
    await sim.emit_telegram()
    assert await _register(session, sim) - before == pytest.approx(0.6, abs=1e-9)
    assert sim.meter.import_kw == 3.6
    for bad in ({"kw": -1}, {"kw": "x"}, {"kw": True}):
        async with session.post(f"{sim.url}/_sim/load", json=bad) as resp:
            assert resp.status == 400
    async with session.post(f"{sim.url}/_sim/load", json={"kw": None}) as resp:
        assert resp.status == 200
    assert sim.meter.load is None
