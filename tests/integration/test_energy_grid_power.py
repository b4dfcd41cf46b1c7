"""The Energy dashboard's grid power (Home Assistant 2025.12+) takes ``power_net`` (issue 21).

The dashboard's own validator (``energy/validate``) must find nothing wrong with a grid
connection with the import and export totals and ``power_net`` as its power sensor (positive
while importing, negative while exporting), as the README tells. Skipped on lines without grid
power (``homeassistant.components.energy.data.PowerConfig`` missing, e.g. 2025.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.energy import data as energy_data, validate as energy_validate
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.whatwatt.const import DOMAIN

from .conftest import DEVICE_ID

if TYPE_CHECKING:
    from homeassistant.components.recorder import Recorder
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

pytestmark = pytest.mark.skipif(
    not hasattr(energy_data, "PowerConfig"),
    reason="this Home Assistant line has no grid power in the Energy dashboard",
)


@pytest.fixture
def mock_recorder_before_hass(recorder_db_url: str) -> None:
    """Prepare the recorder's database before ``hass`` (the autouse fixtures ask for it first)."""


async def test_power_net_is_the_grid_power_sensor(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
) -> None:
    """Import, export and power_net as one grid connection: the validator has no issue."""
    registry = er.async_get(hass)

    def entity(key: str) -> str:
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}")
        assert entity_id is not None, key
        return entity_id

    power = hass.states.get(entity("power_net"))
    assert power is not None
    assert power.attributes["device_class"] == "power"
    assert power.attributes["state_class"] == "measurement"
    assert await async_setup_component(hass, "energy", {})
    grid = {
        "type": "grid",
        "stat_energy_from": entity("energy_import"),
        "stat_energy_to": entity("energy_export"),
        "stat_cost": None,
        "entity_energy_price": None,
        "number_energy_price": None,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "power_config": {"stat_rate": entity("power_net")},
        "cost_adjustment_day": 0,
    }
    # What energy/save_prefs takes, validated by the dashboard's own schema and stored (called
    # directly: the websocket's access tokens do not survive these tests' frozen clock).
    sources = energy_data.ENERGY_SOURCE_SCHEMA([grid])
    assert sources[0]["power_config"] == {"stat_rate": entity("power_net")}
    manager = await energy_data.async_get_manager(hass)
    await manager.async_update({"energy_sources": sources})
    await hass.async_block_till_done()
    result = (await energy_validate.async_validate(hass)).as_dict()
    # No word about a sensor's unit, device class, state class or state; the only thing a
    # short test may lack is compiled long-term statistics (the first hour is not over).
    kinds = {issue["type"] for issue in result["energy_sources"][0]}
    assert kinds <= {"statistics_not_defined"}, result
