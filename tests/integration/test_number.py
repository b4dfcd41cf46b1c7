"""The report-interval number: read from the device's settings, written with a partial PUT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .helpers import assert_config_entity
from .services_helpers import call, real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

NUMBER = "number.whatwatt_go_d4e5f6_report_interval"


async def set_value(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: NUMBER, ATTR_VALUE: value},
        blocking=True,
    )


async def test_report_interval_number(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    assert_config_entity(hass, NUMBER, "report_interval")
    state = hass.states.get(NUMBER)
    assert state.state == "30"
    assert state.attributes["min"] == 1
    assert state.attributes["max"] == 3600
    assert state.attributes["unit_of_measurement"] == "s"

    before = sim.state.settings
    sim.requests.clear()
    await set_value(hass, 15)
    assert writes(sim) == [("PUT", "/api/v1/settings")]
    assert sim.state.settings["services"]["report_interval"] == 15
    assert sim.state.settings["system"] == before["system"]
    assert hass.states.get(NUMBER).state == "15"

    # The update_settings action moves the number too.
    await call(
        hass,
        "update_settings",
        {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id, "report_interval": 60},
    )
    assert hass.states.get(NUMBER).state == "60"


async def test_report_interval_out_of_range(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.requests.clear()
    with pytest.raises(Exception, match="valid range"):
        await set_value(hass, 0)
    assert writes(sim) == []


async def test_report_interval_rejected(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    sim.faults.status_503 = True
    with pytest.raises(HomeAssistantError) as err:
        await set_value(hass, 20)
    assert err.value.translation_key == "device_busy"
    sim.faults.status_503 = False
    assert sim.state.settings["services"]["report_interval"] == 30
    assert hass.states.get(NUMBER).state == "30"


async def test_report_interval_unknown_until_read(
    hass: HomeAssistant, sim: Any, mock_config_entry: MockConfigEntry
) -> None:
    """Settings that cannot be read at set-up leave the value unknown until they are."""
    original = sim.state.public_settings
    sim.state.public_settings = lambda: "not an object"
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(NUMBER).state == "unknown"
    sim.state.public_settings = original
    await call(
        hass, "get_settings", {ATTR_CONFIG_ENTRY_ID: mock_config_entry.entry_id}, response=True
    )
    assert hass.states.get(NUMBER).state == "30"
