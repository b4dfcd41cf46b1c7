"""The MQTT client switch: configure_mqtt with ``enable`` only (fill-ins when switching on)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    EntityCategory,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.api.errors import WhatwattConnectionError
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE

from .conftest import DEVICE_ID, advance
from .mqtt_helpers import mqtt_entry, mqtt_ready  # noqa: F401 - mqtt_ready: fixture
from .services_helpers import real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

SWITCH = "switch.whatwatt_go_d4e5f6_mqtt_client"
LINK = "sensor.whatwatt_go_d4e5f6_mqtt_link"


async def switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: SWITCH}, blocking=True)


async def test_mqtt_client_switch(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    entity = er.async_get(hass).async_get(SWITCH)
    assert entity is not None
    assert entity.unique_id == f"{DEVICE_ID}_mqtt_client"
    assert entity.entity_category is EntityCategory.CONFIG
    assert hass.states.get(SWITCH).state == STATE_OFF
    link = er.async_get(hass).async_get(LINK)
    assert link.entity_category is EntityCategory.DIAGNOSTIC
    assert hass.states.get(LINK).state == "disabled"

    MockConfigEntry(domain="mqtt", data={"broker": "192.0.2.10", "port": 1883}).add_to_hass(hass)
    sim.requests.clear()
    await switch(hass, SERVICE_TURN_ON)
    assert writes(sim) == [("PUT", "/api/v1/mqtt/settings")]
    stored = sim.state.mqtt_settings
    assert stored["enable"] is True
    assert stored["url"] == "mqtt://192.0.2.10:1883"
    assert stored["publish"]["template"] == INTEGRATION_TEMPLATE
    assert hass.states.get(SWITCH).state == STATE_ON

    sim.requests.clear()
    await switch(hass, SERVICE_TURN_OFF)
    assert writes(sim) == [("PUT", "/api/v1/mqtt/settings")]
    assert sim.state.mqtt_settings["enable"] is False
    assert sim.state.mqtt_settings["url"] == "mqtt://192.0.2.10:1883"
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_mqtt_client_switch_needs_broker(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """No broker on the device and none in Home Assistant: a translated error, no write."""
    sim.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await switch(hass, SERVICE_TURN_ON)
    assert err.value.translation_key == "mqtt_broker_unknown"
    assert writes(sim) == []
    assert hass.states.get(SWITCH).state == STATE_OFF


@pytest.mark.parametrize("sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9"}])
async def test_mqtt_link_states(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    """A device with its client on: the switch is on, the link is down (nothing listens)."""
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(LINK).state == "disconnected"


@pytest.mark.usefixtures("mqtt_ready")
async def test_no_switch_without_address(hass: HomeAssistant) -> None:
    """An MQTT-only entry cannot write to the device: no switch."""
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert er.async_get(hass).async_get(SWITCH) is None
    assert hass.states.get(SWITCH) is None
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9"}])
async def test_switch_without_mqtt_settings(
    hass: HomeAssistant, sim: Any, mock_config_entry: MockConfigEntry
) -> None:
    """MQTT settings that cannot be read: the switch shows what the system information says."""
    with patch.object(
        WhatwattClient,
        "get_mqtt_settings",
        side_effect=WhatwattConnectionError("MQTT settings unreadable"),
    ):
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert mock_config_entry.runtime_data.mqtt_settings is None
        assert sim.state.mqtt_settings["enable"] is True
        assert hass.states.get(SWITCH).state == STATE_ON


@pytest.mark.parametrize("sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9"}])
async def test_switch_follows_device_change(
    hass: HomeAssistant,
    sim: Any,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The client switched off in the device's own web page: the switch follows within minutes."""
    assert hass.states.get(SWITCH).state == STATE_ON
    # What the device's web page does (its publisher is stopped in these tests).
    sim.state.mqtt_settings["enable"] = False
    sim.state.mqtt_link = {"enabled": False, "connected": False}
    for _ in range(31):
        await advance(hass, freezer, 10)
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert writes(sim) == []
