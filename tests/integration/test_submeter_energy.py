"""The gas meter in the Energy dashboard: statistics compiled, validation clean.

The recorder runs (``recorder_mock``); the gas meter's counter is recorded and its statistics
compiled; the Energy dashboard gets it as its gas source and ``energy/validate`` finds nothing
to complain about. Then what a change of kind does to the statistics: gas → water keeps the
unit (m³) and the statistics carry on; → heat (kWh) is a unit the recorder cannot convert m³ to,
so it reports ``units_changed`` and compiles no more statistics until the person resolves it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.recorder.statistics import get_metadata
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from .conftest import host_of
from .submeter_helpers import counter, set_kinds

if TYPE_CHECKING:
    from datetime import datetime

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.components.recorder import Recorder
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.fixture
def mock_recorder_before_hass(recorder_db_url: str) -> None:
    """Prepare the recorder's database before ``hass`` (the autouse fixtures ask for it first)."""


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """A P1 meter with a gas meter on bus 1."""
    return {"profile": "p1-gas"}


async def _ws(client: Any, message: dict[str, Any]) -> Any:
    await client.send_json_auto_id(message)
    response = await client.receive_json()
    assert response["success"], response
    return response["result"]


async def _client(hass: HomeAssistant, hass_ws_client: Any, user: Any) -> Any:
    """Connect with a token issued now (the clock is moved in this test; tokens expire)."""
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/app")
    return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))


async def _compile(hass: HomeAssistant, start: datetime) -> None:
    """Compile the five-minute statistics of the period starting at ``start``."""
    do_adhoc_statistics(hass, start=start)
    await async_wait_recording_done(hass)


async def _poll(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.measurements.async_refresh()
    await hass.async_block_till_done()


async def test_gas_in_the_energy_dashboard(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: Any,
    hass_admin_user: Any,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The gas counter is accepted as the Energy dashboard's gas source, without issues."""
    assert mock_config_entry.data["host"] == host_of(sim)
    assert await async_setup_component(hass, "energy", {})
    period = dt_util.utcnow().replace(minute=10, second=0, microsecond=0)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    gas = counter(hass, 1)
    assert gas.state == "4321.123"
    # The next hourly capture within the next periods, then the statistics are compiled.
    freezer.move_to(period + timedelta(minutes=50, seconds=5))
    await sim.emit_telegram()
    await _poll(hass, mock_config_entry)
    assert float(counter(hass, 1).state) > 4321.123
    await async_wait_recording_done(hass)
    freezer.move_to(period + timedelta(hours=1))
    await _compile(hass, period + timedelta(minutes=45))
    await _compile(hass, period + timedelta(minutes=50))
    metadata = await recorder_mock.async_add_executor_job(
        lambda: get_metadata(hass, statistic_ids={gas.entity_id})
    )
    assert metadata[gas.entity_id][1]["unit_of_measurement"] == "m³"
    assert metadata[gas.entity_id][1]["has_sum"]

    await sim.emit_telegram()  # the meter goes on reporting: the counter is available
    await _poll(hass, mock_config_entry)
    client = await _client(hass, hass_ws_client, hass_admin_user)
    await _ws(
        client,
        {
            "type": "energy/save_prefs",
            "energy_sources": [
                {
                    "type": "gas",
                    "stat_energy_from": gas.entity_id,
                    "stat_cost": None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
            ],
        },
    )
    validation = await _ws(client, {"type": "energy/validate"})
    assert validation["energy_sources"] == [[]], validation
    assert all(not issues for group in validation.values() for issues in group), validation
    assert await _ws(client, {"type": "recorder/validate_statistics"}) == {}

    # Gas → water: the same unit, the statistics carry on.
    await set_kinds(hass, mock_config_entry, volume_1="water")
    assert counter(hass, 1).entity_id == gas.entity_id
    await async_wait_recording_done(hass)
    assert await _ws(client, {"type": "recorder/validate_statistics"}) == {}
    # → heat: kWh cannot continue m³ statistics; the recorder says so (Developer tools).
    await set_kinds(hass, mock_config_entry, volume_1="heat")
    await async_wait_recording_done(hass)
    issues = await _ws(client, {"type": "recorder/validate_statistics"})
    assert [issue["type"] for issue in issues[gas.entity_id]] == ["units_changed"], issues
