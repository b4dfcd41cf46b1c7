"""Energy totals guarded: a one-off zero or garbage register never reaches the Energy dashboard.

The simulator's ``energy_glitch`` fault makes every energy register read 0 (``zero``) or 1e9
(``garbage``) in exactly one reading of the named path: the next REST report answer, the next
live event, the next MQTT message (rendered here from the simulator's template with the glitch
taken on the ``mqtt`` path, then fired on a mocked MQTT client). ``energy_import`` never goes to
zero, never backwards and never jumps to the garbage; each glitched register is warned about
once, however many glitched readings follow in a row. A real meter reset is accepted after 3
consecutive readings of the new lower value, a restart of the whatwatt Go (a new boot id) or
not: the registers live in the meter. After a restart of Home Assistant the guard starts from
the totals it last recorded, so a glitch in the very first reading is held as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import TYPE_CHECKING, Any, NamedTuple

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, callback
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
    async_mock_restore_state_shutdown_restart,
)

from simulator.template import render
from simulator.variables import NUMERIC, build_variables

from .conftest import advance
from .hostile_helpers import Reading
from .live_helpers import setup_live, wait_for
from .mqtt_helpers import TEMPLATES, TOPIC, mqtt_entry, mqtt_ready, sensor_state, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

SimFactory = Callable[..., Awaitable[Any]]
GARBAGE = 1e9
# The P1 meter's energy registers (import and export, total and both tariffs).
ENERGY = (
    "energy_import",
    "energy_import_t1",
    "energy_import_t2",
    "energy_export",
    "energy_export_t1",
    "energy_export_t2",
)
# Registers after a meter replacement: import 10 + 5 kWh (export unchanged).
RESET_IN = (10.0, 5.0)


def watts(report: dict[str, Any]) -> float:
    return round(report["report"]["instantaneous_power"]["active"]["positive"]["total"] * 1000, 3)


def device_energy(report: dict[str, Any]) -> float:
    """Return the import total the device decoded (before any glitch of an output path)."""
    return float(report["report"]["energy"]["active"]["positive"]["total"])


def shown(hass: HomeAssistant, key: str = "energy_import") -> float:
    value = sensor_state(hass, key)
    assert value not in (None, STATE_UNAVAILABLE, STATE_UNKNOWN), (key, value)
    return float(value)


class EnergyWatch:
    """Every state ``energy_import`` takes (a state-change listener)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.values: list[float] = []
        self.unlisten = hass.bus.async_listen("state_changed", self._changed)

    @callback
    def _changed(self, event: Event) -> None:
        if not event.data["entity_id"].endswith("_energy_import"):
            return
        new = event.data["new_state"]
        if new is not None and new.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            self.values.append(float(new.state))

    def assert_guarded(self) -> None:
        """Never zero, never backwards, never the garbage."""
        assert self.values, "energy_import never changed"
        assert 0.0 not in self.values, self.values
        assert all(value < GARBAGE for value in self.values), self.values
        assert self.values == sorted(self.values), self.values


def glitch_warnings(caplog: pytest.LogCaptureFixture) -> dict[str, int]:
    """Return how many warnings of the integration name each energy register."""
    counts = dict.fromkeys(ENERGY, 0)
    for record in caplog.records:
        if record.levelno != logging.WARNING or not record.name.startswith(
            "custom_components.whatwatt"
        ):
            continue
        message = record.getMessage()
        for key in ENERGY:
            if f" {key} = " in message or f" {key}=" in message:
                counts[key] += 1
    return counts


def _arm(sim: Any, kind: str, path: str) -> None:
    sim.faults.energy_glitch = {"kind": kind, "value": GARBAGE, "paths": [path]}


def _reset_meter(sim: Any) -> None:
    sim.meter.energy_in = list(RESET_IN)


pytestmark = pytest.mark.usefixtures("enable_all_entities")


class _Rest(NamedTuple):
    """A polled entry of the simulated device, and the test's clock."""

    hass: HomeAssistant
    sim: Any
    entry: MockConfigEntry
    freezer: FrozenDateTimeFactory


@pytest.fixture
def rest(request: pytest.FixtureRequest) -> _Rest:
    names = ("hass", "sim", "mock_config_entry", "freezer")
    return _Rest(*(request.getfixturevalue(name) for name in names))


async def _polled(hass: HomeAssistant, sim: Any, entry: MockConfigEntry) -> Reading:
    """Take the simulator's readings over, then set the polled entry up."""
    readings = Reading(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return readings


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, readings: Reading) -> Any:
    """Decode the next telegram, let one scan interval pass; return its report."""
    report = await readings.emit()
    await advance(hass, freezer, 10)
    return report


# -- REST --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["zero", "garbage"])
async def test_rest_glitch_then_reset_confirmed(
    rest: _Rest,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """REST: two glitched answers in a row keep the last good totals, warned once per register;
    a lower value is accepted after 3 agreeing readings."""
    hass, sim, mock_config_entry, freezer = rest
    readings = await _polled(hass, sim, mock_config_entry)
    watch = EnergyWatch(hass)
    for _ in range(2):
        report = await _poll(hass, freezer, readings)
        assert shown(hass) == device_energy(report)
    good = {key: shown(hass, key) for key in ENERGY}
    for _ in range(2):
        _arm(sim, kind, "report")
        report = await _poll(hass, freezer, readings)
        assert sim.faults.energy_glitch is None  # the poll's answer carried the glitch
        assert float(sensor_state(hass, "power_import")) == watts(report)  # the reading is in
        assert {key: shown(hass, key) for key in ENERGY} == good
    assert glitch_warnings(caplog) == dict.fromkeys(ENERGY, 1)
    for _ in range(2):
        report = await _poll(hass, freezer, readings)
        assert shown(hass) == device_energy(report) >= good["energy_import"]
    watch.assert_guarded()
    watch.unlisten()

    # A real reset (meter replaced): the lower value stands after 3 agreeing readings.
    last = shown(hass)
    _reset_meter(sim)
    for _ in range(2):
        report = await _poll(hass, freezer, readings)
        assert float(sensor_state(hass, "power_import")) == watts(report)
        assert shown(hass) == last
    report = await _poll(hass, freezer, readings)
    assert shown(hass) == device_energy(report) == pytest.approx(sum(RESET_IN), abs=0.01)
    assert shown(hass, "energy_import_t1") == RESET_IN[0]


@pytest.mark.parametrize("kind", ["zero", "garbage"])
async def test_rest_glitch_then_reboot_then_reset_confirmed(
    rest: _Rest,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """REST: a glitch is held; after a reboot a lower value still needs 3 agreeing readings."""
    hass, sim, mock_config_entry, freezer = rest
    readings = await _polled(hass, sim, mock_config_entry)
    watch = EnergyWatch(hass)
    report = await _poll(hass, freezer, readings)
    good = shown(hass)
    assert good == device_energy(report)
    _arm(sim, kind, "report")
    await _poll(hass, freezer, readings)
    assert shown(hass) == good
    report = await _poll(hass, freezer, readings)
    assert shown(hass) == device_energy(report) >= good
    watch.assert_guarded()
    assert glitch_warnings(caplog)["energy_import"] == 1

    last = shown(hass)
    boot_id = sim.state.boot_id
    await sim.reboot(downtime=0)
    assert sim.state.boot_id != boot_id
    _reset_meter(sim)
    report = await _poll(hass, freezer, readings)
    if sensor_state(hass, "power_import") == STATE_UNAVAILABLE:
        await advance(hass, freezer, 10)  # the kept-alive connection died with the reboot
    assert float(sensor_state(hass, "power_import")) == watts(report)
    assert shown(hass) == last  # a new boot id proves no reset of the meter's registers
    report = await _poll(hass, freezer, readings)
    assert shown(hass) == last
    report = await _poll(hass, freezer, readings)
    assert shown(hass) == device_energy(report) == pytest.approx(sum(RESET_IN), abs=0.01)
    assert glitch_warnings(caplog)["energy_import"] == 2  # the held lower value, once


# -- live --------------------------------------------------------------------------------


async def _live_reading(hass: HomeAssistant, readings: Reading) -> dict[str, Any]:
    """Emit one telegram and wait until its event reached the entities."""
    report = await readings.emit()
    expected = watts(report)

    def arrived() -> bool:
        value = sensor_state(hass, "power_import")
        return value not in (None, STATE_UNAVAILABLE) and float(value) == expected

    await wait_for(hass, arrived)
    return report


@pytest.mark.parametrize("kind", ["zero", "garbage"])
async def test_live_glitch_then_reset_confirmed(
    hass: HomeAssistant,
    sim: Any,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Live: glitched events keep the last good totals (one warning per register); a lower
    value is accepted after 3 agreeing events."""
    readings = Reading(sim)
    entry = await setup_live(hass, sim)
    watch = EnergyWatch(hass)
    for _ in range(2):
        report = await _live_reading(hass, readings)
        assert shown(hass) == device_energy(report)
    good = {key: shown(hass, key) for key in ENERGY}
    for _ in range(2):
        _arm(sim, kind, "live")
        await _live_reading(hass, readings)
        assert sim.faults.energy_glitch is None  # the event carried the glitch
        assert {key: shown(hass, key) for key in ENERGY} == good
    assert glitch_warnings(caplog) == dict.fromkeys(ENERGY, 1)
    report = await _live_reading(hass, readings)
    assert shown(hass) == device_energy(report) >= good["energy_import"]
    watch.assert_guarded()
    watch.unlisten()

    last = shown(hass)
    _reset_meter(sim)
    for _ in range(2):
        await _live_reading(hass, readings)
        assert shown(hass) == last
    report = await _live_reading(hass, readings)
    assert shown(hass) == device_energy(report) == pytest.approx(sum(RESET_IN), abs=0.01)
    assert await hass.config_entries.async_unload(entry.entry_id)


# -- MQTT (mocked client) ----------------------------------------------------------------


def _published(sim: Any, template: str) -> bytes:
    """Render the template as the device publishes it now (with a pending MQTT glitch)."""
    report = sim.glitched("mqtt", sim.state.report)
    return render(template, build_variables(sim.state, report), NUMERIC).encode()


async def _mqtt_reading(hass: HomeAssistant, readings: Reading, template: str) -> dict[str, Any]:
    report = await readings.emit()
    async_fire_mqtt_message(hass, TOPIC, _published(readings.sim, template))
    await hass.async_block_till_done()
    assert float(sensor_state(hass, "power_import")) == watts(report)
    return report


@pytest.mark.parametrize("template", ["own", "vendor"])
@pytest.mark.parametrize("kind", ["zero", "garbage"])
async def test_mqtt_glitch_then_reset_confirmed(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimFactory,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    template: str,
) -> None:
    """MQTT: glitched messages keep the last good totals (one warning per register); a lower
    value is accepted after 3 agreeing messages."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=7, report_interval=30)
    readings = Reading(sim)
    await readings.emit()
    entry = await setup_entry(hass, mqtt_entry())  # MQTT only: no REST to stand in
    tpl = TEMPLATES[template]
    watch = EnergyWatch(hass)
    for _ in range(2):
        report = await _mqtt_reading(hass, readings, tpl)
        assert shown(hass) == device_energy(report)
    good = {key: shown(hass, key) for key in ENERGY}
    for _ in range(2):
        _arm(sim, kind, "mqtt")
        await _mqtt_reading(hass, readings, tpl)
        assert sim.faults.energy_glitch is None  # the message carried the glitch
        assert {key: shown(hass, key) for key in ENERGY} == good
    assert glitch_warnings(caplog) == dict.fromkeys(ENERGY, 1)
    report = await _mqtt_reading(hass, readings, tpl)
    assert shown(hass) == device_energy(report) >= good["energy_import"]
    watch.assert_guarded()
    watch.unlisten()

    last = shown(hass)
    _reset_meter(sim)
    for _ in range(2):
        await _mqtt_reading(hass, readings, tpl)
        assert shown(hass) == last
    report = await _mqtt_reading(hass, readings, tpl)
    assert shown(hass) == device_energy(report) == pytest.approx(sum(RESET_IN), abs=0.01)
    assert await hass.config_entries.async_unload(entry.entry_id)


# -- the first reading after a restart, a garbage reading after a reboot ---------------------


async def _restart_home_assistant(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry and save and reload Home Assistant's stored states (a restart)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await async_mock_restore_state_shutdown_restart(hass)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("zero", 0.0), ("garbage", GARBAGE), ("garbage", -5.0), ("garbage", 12.0)],
    ids=["zero", "garbage", "negative", "lower"],
)
async def test_rest_glitch_in_first_reading_is_not_shown(
    rest: _Rest,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    value: float,
) -> None:
    """The very first reading after a restart of Home Assistant is glitched.

    The Energy dashboard has the registers from before the restart; a first value of 0 or 1e9
    shown now would be a reset (or a jump) in its statistics just the same. The guard starts
    from the totals Home Assistant recorded, so the glitch is held like any other.
    """
    hass, sim, mock_config_entry, freezer = rest
    readings = await _polled(hass, sim, mock_config_entry)
    await _poll(hass, freezer, readings)
    recorded = {key: shown(hass, key) for key in ENERGY}
    await _restart_home_assistant(hass, mock_config_entry)

    sim.faults.energy_glitch = {"kind": kind, "value": value, "paths": ["report"]}
    watch = EnergyWatch(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert sim.faults.energy_glitch is None  # the first report carried the glitch
    assert {key: shown(hass, key) for key in ENERGY} == recorded
    assert glitch_warnings(caplog) == dict.fromkeys(ENERGY, 1)
    for _ in range(3):
        report = await _poll(hass, freezer, readings)
        assert shown(hass) == device_energy(report) >= recorded["energy_import"]
    watch.assert_guarded()
    assert min(watch.values) == recorded["energy_import"], watch.values
    watch.unlisten()


async def test_mqtt_glitch_in_first_message_is_not_shown(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimFactory,
) -> None:
    """MQTT only (no REST baseline): the first message after a restart is glitched."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=7, report_interval=30)
    readings = Reading(sim)
    await readings.emit()
    entry = await setup_entry(hass, mqtt_entry())
    tpl = TEMPLATES["own"]
    await _mqtt_reading(hass, readings, tpl)
    recorded = {key: shown(hass, key) for key in ENERGY}
    await _restart_home_assistant(hass, entry)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    watch = EnergyWatch(hass)
    _arm(sim, "garbage", "mqtt")
    await _mqtt_reading(hass, readings, tpl)
    assert sim.faults.energy_glitch is None
    assert {key: shown(hass, key) for key in ENERGY} == recorded
    report = await _mqtt_reading(hass, readings, tpl)
    assert shown(hass) == device_energy(report) >= recorded["energy_import"]
    watch.assert_guarded()
    watch.unlisten()
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("value", [-5.0, 12.0])
async def test_rest_glitch_after_reboot_is_not_a_reset(
    rest: _Rest,
    value: float,
) -> None:
    """A reboot, and the first report after it has a one-off garbage import register.

    The whatwatt Go restarted, the meter did not: neither a lower nor a negative total is taken
    as a meter reset.
    """
    hass, sim, mock_config_entry, freezer = rest
    readings = await _polled(hass, sim, mock_config_entry)
    await _poll(hass, freezer, readings)
    good = shown(hass)
    await sim.reboot(downtime=0)
    sim.faults.energy_glitch = {
        "kind": "garbage",
        "value": value,
        "registers": ["1_8_0"],
        "paths": ["report"],
    }
    watch = EnergyWatch(hass)
    for _ in range(4):
        report = await _poll(hass, freezer, readings)
    assert sim.faults.energy_glitch is None
    assert shown(hass) == device_energy(report)
    watch.unlisten()
    assert min(watch.values) >= good, watch.values
