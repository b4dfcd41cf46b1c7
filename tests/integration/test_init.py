"""Set-up and unload of a config entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
import pytest

from custom_components.whatwatt.const import CONF_TRANSPORT
from custom_components.whatwatt.coordinator import WhatwattRuntimeData

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any
) -> None:
    """The entry loads with a coordinator, polls the device and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data, WhatwattRuntimeData)
    assert entry.runtime_data.device.data.system.device_id == "A1B2C3D4E5F6"
    assert entry.runtime_data.source is None  # REST: the measurement coordinator polls
    assert hass.states.get("sensor.whatwatt_go_d4e5f6_power_import") is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.whatwatt_go_d4e5f6_power_import").state == "unavailable"


async def test_setup_retry_when_unreachable(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, sim: Any
) -> None:
    """An unreachable device makes the set-up retry later."""
    sim.faults.refuse = True
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize("sim_options", [{"license": "free"}])
async def test_setup_retry_when_free(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A FREE device cannot be polled over REST."""
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize("sim_options", [{"auth": "digest", "password": "secret"}])
async def test_setup_wrong_password(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A refused password fails the set-up and starts reauth."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, "password": "wrong"}
    )
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler("whatwatt")
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


@pytest.mark.parametrize("transport", ["carrier_pigeon"])
async def test_transport_not_supported_yet(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, transport: str
) -> None:
    """Entries of a transport this version does not know fail with a translated error."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_TRANSPORT: transport}
    )
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert f"The {transport} transport is not supported yet" in mock_config_entry.reason
