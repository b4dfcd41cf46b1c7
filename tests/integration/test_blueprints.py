"""The automation blueprints in ``blueprints/automation/whatwatt/``, run against the integration.

Each blueprint is copied into the test's config folder (``blueprints/automation/whatwatt/``, as a
person's import puts it), loaded by Home Assistant's blueprint integration through ``automation``
with ``use_blueprint``, and run against the entities of an entry on the simulator: the action
fires (a mocked service) once the entities cross the thresholds for the time asked, not before.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil
from typing import TYPE_CHECKING, Any

from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import Platform
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)
import yaml

from custom_components.whatwatt.const import DOMAIN
from simulator.meter import LoadSteps

from .conftest import DEVICE_ID, advance
from .helpers import Midpoint
from .live_helpers import within

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "whatwatt"
POLL = 10  # the entry's scan interval (conftest)


@pytest.fixture
async def entry(
    hass: HomeAssistant, tmp_path: Path, init_integration: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """Set the entry up on the simulator, in a config folder of the test's own holding the
    project's blueprints.

    The automations are switched off before Home Assistant stops: the entities going
    unavailable at shutdown would otherwise start a trigger's ``for`` timer.
    """
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, hass.config.path("blueprints", "automation", "whatwatt"))
    yield init_integration
    if hass.services.has_service(AUTOMATION_DOMAIN, "turn_off"):
        await hass.services.async_call(
            AUTOMATION_DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
        )


def entity_id(hass: HomeAssistant, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(Platform.SENSOR, DOMAIN, f"{DEVICE_ID}_{key}")
    assert found is not None, key
    return found


async def use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    """Set up one automation from a blueprint of the project."""
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "id": name,
                "use_blueprint": {"path": f"whatwatt/{name}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    automation = hass.states.get(f"automation.{name.removesuffix('.yaml')}")
    assert automation is None or automation.state == "on"
    assert hass.states.async_entity_ids(AUTOMATION_DOMAIN), "the blueprint did not load"


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, sim: Any, times: int) -> None:
    """Let ``times`` polls pass, a new meter telegram before each (the readings stay fresh)."""
    for _ in range(times):
        await sim.emit_telegram()
        await advance(hass, freezer, POLL)


async def poll_during_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Let one poll pass while an automation run waits for a trigger.

    ``async_block_till_done`` would wait for that run to end; this returns once the
    measurements have been read (their listeners called), failing after 10 s of real time.
    """
    done = asyncio.Event()
    remove = entry.runtime_data.measurements.async_add_listener(done.set)
    try:
        freezer.tick(timedelta(seconds=POLL))
        async_fire_time_changed(hass, dt_util.utcnow())
        await within(done.wait(), "the measurements read in the poll")
    finally:
        remove()


async def _until(condition: Callable[[], bool], rounds: int = 100) -> None:
    """Let the loop run (an automation run going on) until ``condition()`` holds."""
    for _ in range(rounds):
        await asyncio.sleep(0)
        if condition():
            return
    raise AssertionError("the condition never held")


def test_blueprints_are_valid_yaml() -> None:
    """The blueprints are there, for the automation domain, with the inputs they document."""

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_constructor("!input", lambda loader, node: loader.construct_scalar(node))
    names = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert names == ["feed_in_load.yaml", "keep_demand_below_limit.yaml", "meter_link_lost.yaml"]
    for name in names:
        data = yaml.load((BLUEPRINTS / name).read_text(encoding="utf-8"), Loader=_Loader)
        blueprint = data["blueprint"]
        assert blueprint["domain"] == "automation"
        assert blueprint["source_url"].endswith(f"blueprints/automation/whatwatt/{name}")
        assert blueprint["homeassistant"]["min_version"] == "2025.4.0"


async def test_feed_in_load(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """The load goes on after 1 min of feed-in above 800 W, off after 1 min below 200 W."""
    sim.meter.rng = Midpoint()
    export = entity_id(hass, "power_export")
    await use_blueprint(
        hass,
        "feed_in_load.yaml",
        {
            "export_sensor": export,
            "load": {"entity_id": "switch.water_heater"},
            "on_above": 800,
            "on_for": {"minutes": 1},
            "off_below": 200,
            "off_for": {"minutes": 1},
        },
    )
    turned_on: list[ServiceCall] = async_mock_service(hass, "homeassistant", "turn_on")
    turned_off: list[ServiceCall] = async_mock_service(hass, "homeassistant", "turn_off")

    # Importing 800 W: no feed-in.
    await poll(hass, freezer, sim, 2)
    assert float(hass.states.get(export).state) == 0.0

    # Feeding in 1.2 kW: on once it held for a minute, not before.
    sim.meter.net_kw = -1.2
    await poll(hass, freezer, sim, 1)
    assert float(hass.states.get(export).state) == 1200.0
    await poll(hass, freezer, sim, 5)  # 50 s above the threshold
    assert turned_on == []
    await poll(hass, freezer, sim, 1)  # 60 s
    assert len(turned_on) == 1
    assert turned_on[0].data["entity_id"] == ["switch.water_heater"]
    await poll(hass, freezer, sim, 6)
    assert len(turned_on) == 1  # it stays on: no second call
    assert turned_off == []

    # Importing again: off once that held for a minute.
    sim.meter.net_kw = 0.5
    await poll(hass, freezer, sim, 1)
    assert float(hass.states.get(export).state) == 0.0
    await poll(hass, freezer, sim, 5)
    assert turned_off == []
    await poll(hass, freezer, sim, 1)
    assert len(turned_off) == 1
    assert turned_off[0].data["entity_id"] == ["switch.water_heater"]
    assert len(turned_on) == 1


async def _use_meter_link_lost(hass: HomeAssistant) -> tuple[str, list[ServiceCall]]:
    """Set up ``meter_link_lost.yaml`` (lost for 1 min) telling a mocked ``test.automation``.

    Return the meter status entity and the calls: ``what`` is "lost" or "back", with the
    device, the status and the minutes the blueprint hands its actions.
    """
    status = entity_id(hass, "meter_status")
    told: list[ServiceCall] = async_mock_service(hass, "test", "automation")
    note = {"device": "{{ device_name }}", "status": "{{ status }}", "minutes": "{{ minutes }}"}
    await use_blueprint(
        hass,
        "meter_link_lost.yaml",
        {
            "meter_status_sensor": status,
            "lost_for": {"minutes": 1},
            "lost_actions": [{"action": "test.automation", "data": {"what": "lost", **note}}],
            "restored_actions": [{"action": "test.automation", "data": {"what": "back", **note}}],
        },
    )
    return status, told


async def test_meter_link_lost(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Told once the meter link stayed down for the time asked, and again when it is back."""
    status, told = await _use_meter_link_lost(hass)
    await poll(hass, freezer, sim, 2)
    assert hass.states.get(status).state == "ok"
    assert told == []

    sim.faults.meter_not_connected = True
    await advance(hass, freezer, POLL)
    assert hass.states.get(status).state == "not_connected"
    for _ in range(5):  # 50 s down
        await advance(hass, freezer, POLL)
    assert told == []
    # 60 s: told; the run then waits for the link (so no more async_block_till_done).
    await poll_during_run(hass, freezer, entry)
    await _until(lambda: len(told) == 1)
    assert [call.data for call in told] == [
        {"what": "lost", "device": "whatwatt Go D4E5F6", "status": "Not connected", "minutes": 1}
    ]
    for _ in range(6):
        await poll_during_run(hass, freezer, entry)
    assert len(told) == 1  # told once per outage

    # The meter is back: no data until its first telegram, then OK.
    sim.faults.meter_not_connected = False
    await poll_during_run(hass, freezer, entry)
    assert hass.states.get(status).state == "no_data"
    assert len(told) == 1
    await sim.emit_telegram()
    await poll_during_run(hass, freezer, entry)
    assert hass.states.get(status).state == "ok"
    await _until(lambda: len(told) == 2)
    assert [call.data["what"] for call in told] == ["lost", "back"]
    assert told[1].data["status"] == "OK"
    await hass.async_block_till_done()  # the run has ended


async def test_meter_link_lost_ignores_short_drops(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """A link down for less than the time asked, or the device unreachable, tells nothing."""
    status, told = await _use_meter_link_lost(hass)
    sim.faults.meter_not_connected = True
    for _ in range(3):  # 30 s down
        await advance(hass, freezer, POLL)
    sim.faults.meter_not_connected = False
    await poll(hass, freezer, sim, 2)
    assert hass.states.get(status).state == "ok"
    for _ in range(7):
        await poll(hass, freezer, sim, 1)
    assert told == []

    # The whatwatt Go does not answer: the status is unavailable, which is not a meter link.
    sim.faults.status_503 = True
    for _ in range(8):
        await advance(hass, freezer, POLL)
    assert hass.states.get(status).state == "unavailable"
    assert told == []


# The house of the demand test: what each load draws (kW) while on. Multiples of 0.36 kW: every
# 10 s poll then adds whole Wh to the register (its resolution), so averages are exact.
HEAT_PUMP_KW, BOILER_KW, OTHER_KW, KW_PER_AMPERE = 1.08, 1.08, 0.36, 0.18


def _house_kw(hass: HomeAssistant, car_charging: bool) -> float:
    """Return what the house imports with its loads as the automation left them."""
    power = OTHER_KW
    power += HEAT_PUMP_KW if hass.states.is_state("input_boolean.heat_pump", "on") else 0
    power += BOILER_KW if hass.states.is_state("input_boolean.boiler", "on") else 0
    if car_charging:
        power += float(hass.states.get("input_number.charger_current").state) * KW_PER_AMPERE
    return round(power, 3)


def _window_average(steps: list[tuple[datetime, float]], start: datetime) -> float:
    """Return the average (kW) of a 15-minute window of the steps, from one-second slices."""
    total = 0.0
    for second in range(900):
        moment = start + timedelta(seconds=second)
        total += [kw for at, kw in steps if at <= moment][-1]
    return total / 900


async def test_keep_demand_below_limit(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Sheds the charger's current, then the first switch, while the projection is above 3 kW.

    A closed loop: after every poll the simulated meter imports what the loads draw as the
    automation left them (``_house_kw``); a car charges from 08:20 to 08:34 UTC.
    """
    assert await async_setup_component(hass, "homeassistant", {})  # turn_on, turn_off
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"heat_pump": {"initial": True}, "boiler": {"initial": True}}},
    )
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"charger_current": {"min": 0, "max": 32, "step": 1, "initial": 16}}},
    )
    await use_blueprint(
        hass,
        "keep_demand_below_limit.yaml",
        {
            "projected_sensor": entity_id(hass, "demand_projected"),
            "target": 3.0,
            "hysteresis": 1.0,
            "loads": ["input_boolean.heat_pump", "input_boolean.boiler"],
            "charger_current": "input_number.charger_current",
            "current_reduced": 6,
            "current_normal": 16,
            "settle": 30,
        },
    )
    start = dt_util.utcnow()
    load = LoadSteps(steps=[(start, _house_kw(hass, False))])
    sim.meter.load, sim.meter.last_telegram = load, None
    seen: dict[str, tuple[str, str, str]] = {}

    async def run_until(text: str) -> None:
        until = datetime.fromisoformat(f"2026-01-15 {text}+00:00")
        while dt_util.utcnow() < until:
            await poll(hass, freezer, sim, 1)
            now = dt_util.utcnow()
            car = (
                datetime(2026, 1, 15, 8, 20, tzinfo=UTC)
                <= now
                < datetime(2026, 1, 15, 8, 34, tzinfo=UTC)
            )
            if (kw := _house_kw(hass, car)) != load.steps[-1][1]:
                load.hold(now, kw)
            seen[now.strftime("%H:%M:%S")] = (
                hass.states.get("input_boolean.heat_pump").state,
                hass.states.get("input_boolean.boiler").state,
                hass.states.get("input_number.charger_current").state,
            )

    # What the loads are left at: (heat pump, boiler, charger current).
    normal, reduced, shed = ("on", "on", "16.0"), ("on", "on", "6.0"), ("off", "on", "6.0")

    def assert_seen(expected: dict[str, tuple[str, str, str]]) -> None:
        assert {moment: seen[moment] for moment in expected} == expected

    await run_until("08:20:00")  # 2.52 kW: in the band between 2 and 3 kW, nothing to do
    assert set(seen.values()) == {normal}
    await run_until("08:29:50")
    # The car: 5.4 kW, projected 5.1 kW → 6 A (3.6 kW, projected 3.2 kW); 30 s later the heat
    # pump (2.52 kW, projected 2.59 kW).
    assert_seen({"08:20:10": reduced, "08:20:30": reduced, "08:20:40": shed, "08:29:50": shed})
    first = _window_average(load.steps, datetime(2026, 1, 15, 8, 15, tzinfo=UTC))
    assert first == pytest.approx((5 * 2.52 + 5.4 / 6 + 3.6 / 2 + 28 / 3 * 2.52) / 15)  # 2.588
    await run_until("08:30:00")  # a new window: everything back
    assert seen["08:30:00"] == normal
    await run_until("08:45:00")
    # The car is full at 08:34: the projection falls below 2 kW, the heat pump comes back.
    assert_seen({"08:30:30": reduced, "08:31:00": shed, "08:34:10": reduced, "08:44:50": reduced})
    second = _window_average(load.steps, datetime(2026, 1, 15, 8, 30, tzinfo=UTC))
    assert second == pytest.approx((2.7 + 1.8 + 3 * 2.52 + 1.44 / 6 + 65 / 6 * 2.52) / 15)  # 2.64
    assert float(hass.states.get(entity_id(hass, "demand_peak")).state) == pytest.approx(
        max(first, second) * 1000, abs=1
    )
