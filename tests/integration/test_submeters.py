"""Sub-meters over REST: gas, water and heat meters as devices of their own.

Per bus a device connected via the whatwatt Go, named for what it measures and its meter id,
with the counter ``volume_<bus>`` (total_increasing) and its capture time. What it measures is
an option (gas by default on a P1/DSMR meter, other elsewhere) that applies at once; a sub-meter
appearing later gets its device at run time; one gone for 30 days of readings is removed with
its device, and a gone one can be deleted by hand earlier.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    EntityCategory,
)
from homeassistant.core import State
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.whatwatt.api.submeters import GONE_AFTER
from custom_components.whatwatt.api.totals import CONFIRM_READINGS
from custom_components.whatwatt.config_flow import WhatwattConfigFlow
from custom_components.whatwatt.const import CONF_SCAN_INTERVAL, CONF_TRANSPORT, DOMAIN
from custom_components.whatwatt.diagnostics import async_get_config_entry_diagnostics
from custom_components.whatwatt.submeter import async_remove_config_entry_device

from .conftest import DEVICE_ID
from .submeter_helpers import (
    GAS_ID,
    HEAT_ID,
    WATER_ID,
    assert_gas_meter,
    counter,
    entity_id_of,
    hub_device,
    restart,
    sensor,
    set_kinds,
    submeter_device,
)

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from .helpers import Poll

DEMAND = {"demand_window": 15, "demand_peaks": 1}  # every options form has them

DAY = 86400.0


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """A P1 meter with a gas meter on bus 1."""
    return {"profile": "p1-gas"}


@pytest.fixture
def reading(sim: Any, freezer: FrozenDateTimeFactory, poll: Poll) -> Poll:
    """Set the integration up; ``await reading(s)``: ``s`` seconds pass, a telegram, a poll."""

    async def step(s: float) -> None:
        freezer.tick(timedelta(seconds=s - 10))
        await sim.emit_telegram()
        await poll()

    return step


async def _removed_after(hass: HomeAssistant, reading: Poll, seconds: float) -> None:
    """Missing from the readings of the next ``seconds``: the gas meter's device stays until the
    last day of them, and is removed with the last reading."""
    await reading(seconds - DAY)
    assert submeter_device(hass, 1) is not None
    await reading(DAY)
    assert submeter_device(hass, 1) is None


async def test_gas_meter_device_and_sensors(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The gas meter is a device of its own, via the whatwatt Go, with counter and capture time."""
    device, state = assert_gas_meter(hass)
    assert state.attributes["state_class"] == "total_increasing"
    assert state.entity_id == "sensor.gas_meter_g0035001234567819_gas_consumption"
    # The frozen time is 08:12:40 UTC: the last hourly capture was at 08:00.
    captured = sensor(hass, "volume_1_capture_time")
    assert captured is not None
    assert captured.state == "2026-01-15T08:00:00+00:00"
    registry = er.async_get(hass)
    capture_entry = registry.async_get(captured.entity_id)
    assert capture_entry.entity_category is EntityCategory.DIAGNOSTIC
    assert capture_entry.device_id == device.id
    assert registry.async_get(state.entity_id).device_id == device.id
    # P1/DSMR: gas by default, stored in the options (the options form lists the bus).
    assert init_integration.options == {CONF_SCAN_INTERVAL: 10, "volume_1": "gas"}
    # The whatwatt Go keeps its own entities.
    hub = hub_device(hass)
    assert registry.async_get(entity_id_of(hass, "energy_import")).device_id == hub.id


@pytest.mark.parametrize("sim_options", [{"profile": "dlms-water-heat"}])
async def test_two_submeters_elsewhere_default_other(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """On an M-Bus/DLMS meter each bus is its own device, measuring "other" until chosen."""
    for bus, meter_id, value in ((1, WATER_ID, "812.345"), (2, HEAT_ID, "16234.5")):
        device = submeter_device(hass, bus)
        assert device is not None
        assert device.name == f"Meter {meter_id}"
        assert device.serial_number == meter_id
        state = counter(hass, bus)
        assert state.state == value
        assert ATTR_DEVICE_CLASS not in state.attributes
        assert ATTR_UNIT_OF_MEASUREMENT not in state.attributes
        assert state.attributes["state_class"] == "total_increasing"
    assert init_integration.options == {
        CONF_SCAN_INTERVAL: 10,
        "volume_1": "other",
        "volume_2": "other",
    }


async def test_capture_time_moves_hourly(
    hass: HomeAssistant, init_integration: MockConfigEntry, reading: Poll
) -> None:
    """Within the hour the counter stands; the next capture is slightly higher, an hour later."""
    await reading(600)
    assert counter(hass, 1).state == "4321.123"
    assert sensor(hass, "volume_1_capture_time").state == "2026-01-15T08:00:00+00:00"
    await reading(3600)
    assert sensor(hass, "volume_1_capture_time").state == "2026-01-15T09:00:00+00:00"
    assert 4321.123 < float(counter(hass, 1).state) < 4321.123 + 1


async def test_options_change_kind_in_place(
    hass: HomeAssistant, init_integration: MockConfigEntry, reading: Poll
) -> None:
    """Water, heat, other: applied at once, entity id and unique id stay, the device follows."""
    entity_id = counter(hass, 1).entity_id
    fields = await set_kinds(hass, init_integration, volume_1="water")
    assert set(fields) == {CONF_SCAN_INTERVAL, "volume_1", *DEMAND}
    assert init_integration.options == {CONF_SCAN_INTERVAL: 10, "volume_1": "water", **DEMAND}
    state = counter(hass, 1)
    assert state.entity_id == entity_id
    assert state.state == "4321.123"
    assert state.attributes[ATTR_DEVICE_CLASS] == "water"
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "m³"
    assert submeter_device(hass, 1).name == f"Water meter {GAS_ID}"
    registry_entry = er.async_get(hass).async_get(entity_id)
    assert registry_entry.unique_id == f"{DEVICE_ID}_volume_1"
    assert registry_entry.original_device_class == "water"

    await set_kinds(hass, init_integration, volume_1="heat")
    state = counter(hass, 1)
    assert state.entity_id == entity_id
    assert state.attributes[ATTR_DEVICE_CLASS] == "energy"
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert submeter_device(hass, 1).name == f"Heat meter {GAS_ID}"

    await set_kinds(hass, init_integration, volume_1="other")
    state = counter(hass, 1)
    assert state.entity_id == entity_id
    assert ATTR_UNIT_OF_MEASUREMENT not in state.attributes
    # It keeps following the readings.
    await reading(3600)
    assert float(counter(hass, 1).state) > 4321.123
    entries = er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
    volume_entities = [e.entity_id for e in entries if e.unique_id == f"{DEVICE_ID}_volume_1"]
    assert volume_entities == [entity_id]  # re-added, never duplicated


async def test_options_of_push_entries(hass: HomeAssistant) -> None:
    """Every transport offers options, a known sub-meter's kind among them."""
    live = MockConfigEntry(domain=DOMAIN, data={CONF_TRANSPORT: "live"}, unique_id=DEVICE_ID)
    assert WhatwattConfigFlow.async_supports_options_flow(live)  # the demand
    with_gas = MockConfigEntry(
        domain=DOMAIN, data={CONF_TRANSPORT: "mqtt"}, options={"volume_1": "gas"}
    )
    assert WhatwattConfigFlow.async_supports_options_flow(with_gas)
    with_gas.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(with_gas.entry_id)
    assert set(map(str, result["data_schema"].schema)) == {"volume_1", *DEMAND}
    assert result["description_placeholders"] == {"submeters": "1"}  # no device yet
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"volume_1": "water"}
    )
    assert with_gas.options == {"volume_1": "water", **DEMAND}  # stored for when it loads


@pytest.mark.parametrize("sim_options", [{"profile": "p1-single"}])
async def test_submeter_appears_later(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """A sub-meter the device starts to report gets its device and sensors without a restart."""
    assert submeter_device(hass, 2) is None
    assert init_integration.options == {CONF_SCAN_INTERVAL: 10}
    sim.meter.add_submeter(2, "G9", cumulative=12.5, rate=0.1)
    await reading(10)
    device = submeter_device(hass, 2)
    assert device is not None
    assert device.name == "Gas meter G9"
    assert counter(hass, 2).state == "12.5"
    assert init_integration.options["volume_2"] == "gas"


async def test_submeter_gone_is_removed_after_30_days(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """Missing from the readings: unavailable at once, removed with its device after 30 days."""
    entity_id = counter(hass, 1).entity_id
    capture_id = sensor(hass, "volume_1_capture_time").entity_id
    sim.meter.remove_submeter(1)
    await reading(10)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    assert hass.states.get(capture_id).state == STATE_UNAVAILABLE
    assert submeter_device(hass, 1) is not None

    # Half-way a restart of Home Assistant: the time counts from the first reading without it.
    half = GONE_AFTER.total_seconds() / 2
    await reading(half)
    await restart(hass, init_integration)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    await _removed_after(hass, reading, half)
    registry = er.async_get(hass)
    assert registry.async_get(entity_id) is None
    assert registry.async_get(capture_id) is None
    assert hass.states.get(entity_id) is None
    assert init_integration.options == {CONF_SCAN_INTERVAL: 10}
    assert hub_device(hass) is not None

    # It comes back: a new device, the same entity id; it goes again: a new count.
    sim.meter.add_submeter(1, GAS_ID, cumulative=4400.0)
    await reading(10)
    assert counter(hass, 1).entity_id == entity_id
    assert counter(hass, 1).state == "4400.0"
    sim.meter.remove_submeter(1)
    await reading(10)
    await restart(hass, init_integration)
    await _removed_after(hass, reading, GONE_AFTER.total_seconds())


async def test_a_sub_meter_back_after_a_restart_is_kept(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """A count kept over a restart ends when the first reading after it has the sub-meter; the
    counter, kept over the restart too, holds a zero in that reading."""
    sim.meter.remove_submeter(1)
    await reading(10)
    await reading(GONE_AFTER.total_seconds() - DAY)
    sim.meter.add_submeter(1, GAS_ID, cumulative=0.0)
    await sim.emit_telegram()
    await restart(hass, init_integration)
    assert counter(hass, 1).state == "4321.123"
    sim.meter.add_submeter(1, GAS_ID, cumulative=4400.0)
    await reading(10)
    assert counter(hass, 1).state == "4400.0"
    sim.meter.remove_submeter(1)
    await reading(2 * DAY)  # missing again: a new count, from here
    assert submeter_device(hass, 1) is not None
    await _removed_after(hass, reading, GONE_AFTER.total_seconds())


async def test_a_missing_counter_keeps_its_last_reading_over_a_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """What a missing sub-meter keeps over a restart is its last reading, not its first."""
    sim.meter.submeters[0].cumulative = 4400.0
    await reading(10)
    assert counter(hass, 1).state == "4400.0"
    sim.meter.remove_submeter(1)
    await reading(10)
    sim.meter.add_submeter(1, GAS_ID, cumulative=0.0)  # back with a zero: held
    await sim.emit_telegram()
    await restart(hass, init_integration)
    assert counter(hass, 1).state == "4400.0"


async def test_unusable_readings_prove_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """A meter link down for longer than 30 days does not remove the gas meter."""
    sim.faults.meter_not_connected = True
    await reading(10)
    assert counter(hass, 1).state == STATE_UNAVAILABLE
    await reading(GONE_AFTER.total_seconds() + DAY)
    sim.faults.meter_not_connected = False
    await reading(10)
    assert submeter_device(hass, 1) is not None
    assert float(counter(hass, 1).state) > 4321.123


async def test_delete_by_hand_once_gone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    sim: Any,
    reading: Poll,
    hass_ws_client: Any,
) -> None:
    """The whatwatt Go and a present sub-meter cannot be deleted; a gone one can, at once."""
    assert await async_setup_component(hass, "config", {})
    device = submeter_device(hass, 1)
    assert not await async_remove_config_entry_device(hass, init_integration, hub_device(hass))
    assert not await async_remove_config_entry_device(hass, init_integration, device)
    sim.meter.remove_submeter(1)
    await reading(10)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": init_integration.entry_id,
            "device_id": device.id,
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    await hass.async_block_till_done()
    assert submeter_device(hass, 1) is None
    assert entity_id_of(hass, "volume_1") is None
    assert "volume_1" not in init_integration.options
    # Seen again later: back.
    sim.meter.add_submeter(1, GAS_ID, cumulative=4500.0)
    await reading(10)
    assert counter(hass, 1).state == "4500.0"


async def test_guard_starts_from_the_recorded_counter(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, sim: Any
) -> None:
    """After a restart a first reading of zero is held against the counter last recorded."""
    registry = er.async_get(hass)
    entity = registry.async_get_or_create(
        "sensor", DOMAIN, f"{DEVICE_ID}_volume_1", suggested_object_id="gas_meter_counter"
    )
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(entity.entity_id, "4321.0"),
                {"native_value": 4321.0, "native_unit_of_measurement": "m³"},
            )
        ],
    )
    sim.meter.submeters[0].cumulative = 0.0
    sim.meter.submeters[0].captured = None
    await sim.emit_telegram()
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(entity.entity_id).state == "4321.0"


async def test_diagnostics_redact_the_meter_ids(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The sub-meters' ids are serial numbers too: never in the diagnostics."""
    result = await async_get_config_entry_diagnostics(hass, init_integration)
    assert result["measurements"]["report"]["report"]["volume"][0]["meter_id"] == "**REDACTED**"
    assert GAS_ID not in str(result)


async def test_replaced_meter_on_the_same_bus(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, reading: Poll
) -> None:
    """A new meter id on a bus: same device and entity id, new name and serial; its counter,
    lower than the old one, is taken once three readings agree (the guard, as for energy)."""
    entity_id = counter(hass, 1).entity_id
    device_id = submeter_device(hass, 1).id
    sim.meter.add_submeter(1, "G777", cumulative=5.0)
    await reading(10)
    device = submeter_device(hass, 1)
    assert (device.id, device.name, device.serial_number) == (device_id, "Gas meter G777", "G777")
    assert counter(hass, 1).entity_id == entity_id
    assert counter(hass, 1).state == "4321.123"  # held: a counter going backwards
    for _ in range(CONFIRM_READINGS - 1):
        await reading(10)
    assert counter(hass, 1).state == "5.0"
