"""Helpers of the sub-meter tests: the sub-meters' devices, sensors and the options flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import (
    async_mock_restore_state_shutdown_restart,
)

from custom_components.whatwatt.const import DOMAIN

from .conftest import DEVICE_ID

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant, State
    from pytest_homeassistant_custom_component.common import MockConfigEntry

# The simulator's sub-meters (simulator.submeters): p1-gas bus 1; dlms-water-heat buses 1, 2.
GAS_ID = "G0035001234567819"
WATER_ID = "71234567"
HEAT_ID = "55501234"


def _device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """Return the whatwatt entries' device with this identifier (an API of every line)."""
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, identifier) in device.identifiers:
                return device
    return None


def submeter_device(hass: HomeAssistant, bus: int) -> dr.DeviceEntry | None:
    """Return the device of the sub-meter on ``bus`` (None when there is none)."""
    return _device(hass, f"{DEVICE_ID}_volume_{bus}")


def hub_device(hass: HomeAssistant) -> dr.DeviceEntry:
    """Return the whatwatt Go's own device."""
    device = _device(hass, DEVICE_ID)
    assert device is not None
    return device


def entity_id_of(hass: HomeAssistant, key: str) -> str | None:
    """Return the entity id of the sensor with this contract key (None when not registered)."""
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}")


def sensor(hass: HomeAssistant, key: str) -> State | None:
    """Return the state of the sensor with this contract key (None when there is none)."""
    entity_id = entity_id_of(hass, key)
    return hass.states.get(entity_id) if entity_id else None


def counter(hass: HomeAssistant, bus: int) -> State:
    """Return the state of the counter of the sub-meter on ``bus`` (it must exist)."""
    state = sensor(hass, f"volume_{bus}")
    assert state is not None, f"no counter for bus {bus}"
    return state


def assert_gas_meter(hass: HomeAssistant) -> tuple[dr.DeviceEntry, State]:
    """The simulator's gas meter (bus 1, unchanged) is a gas device via the whatwatt Go.

    Return its device and the state of its counter.
    """
    device = submeter_device(hass, 1)
    assert device is not None
    assert device.name == f"Gas meter {GAS_ID}"
    assert device.serial_number == GAS_ID
    assert device.via_device_id == hub_device(hass).id
    state = counter(hass, 1)
    assert state.state == "4321.123"
    assert state.attributes[ATTR_DEVICE_CLASS] == "gas"
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "m³"
    return device, state


async def set_kinds(hass: HomeAssistant, entry: MockConfigEntry, **kinds: str) -> dict[str, Any]:
    """Run the options flow, keeping every other field, with new kinds (``volume_1="water"``)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    fields = {str(key): key.default() for key in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**fields, **kinds}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return fields


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Restart Home Assistant for ``entry``: unload, save and reload the stored states, set up."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await async_mock_restore_state_shutdown_restart(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
