"""The MQTT client switch: configure_mqtt with ``enable`` only (fill-ins when switching on)."""

from __future__ import annotations

from contextlib import contextmanager
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
    STATE_UNAVAILABLE,
    EntityCategory,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.client import WhatwattClient
from custom_components.whatwatt.api.errors import WhatwattConnectionError
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.switch import WhatwattMqttClientSwitch

from .conftest import advance
from .helpers import assert_config_entity
from .live_helpers import setup_live, shows, tick, wait_for
from .mqtt_helpers import mqtt_entry
from .services_helpers import real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from collections.abc import Iterator

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

SWITCH = "switch.whatwatt_go_d4e5f6_mqtt_client"
LINK = "sensor.whatwatt_go_d4e5f6_mqtt_link"


async def switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: SWITCH}, blocking=True)


async def test_mqtt_client_switch(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry
) -> None:
    assert_config_entity(hass, SWITCH, "mqtt_client")
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


@contextmanager
def counted_writes() -> Iterator[list[str]]:
    """Record the states the switch writes (a failed switching writes its state back)."""
    written: list[str] = []
    original = WhatwattMqttClientSwitch.async_write_ha_state

    def counting(self: WhatwattMqttClientSwitch) -> None:
        original(self)
        written.append(hass_state(self))

    with patch.object(WhatwattMqttClientSwitch, "async_write_ha_state", counting):
        yield written


def hass_state(entity: WhatwattMqttClientSwitch) -> str:
    state = entity.hass.states.get(entity.entity_id)
    assert state is not None
    return state.state


@pytest.mark.parametrize(
    "broker",
    [
        None,  # no MQTT integration in Home Assistant
        {"broker": "127.0.0.1", "port": 1883},  # one the device cannot reach
    ],
)
async def test_mqtt_client_switch_needs_broker(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry, broker: dict | None
) -> None:
    """No broker the device can reach: the switch's own error names the action, no write."""
    if broker is not None:
        MockConfigEntry(domain="mqtt", data=broker).add_to_hass(hass)
    sim.requests.clear()
    with counted_writes() as written, pytest.raises(ServiceValidationError) as err:
        await switch(hass, SERVICE_TURN_ON)
    assert err.value.translation_key == "mqtt_switch_no_broker"
    assert err.value.translation_domain == DOMAIN
    assert "whatwatt.configure_mqtt" in str(err.value)
    assert "URL field" not in str(err.value)
    assert writes(sim) == []
    assert written == [STATE_OFF]
    assert hass.states.get(SWITCH).state == STATE_OFF


@pytest.mark.parametrize("sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9"}])
@pytest.mark.parametrize("service", [SERVICE_TURN_ON, SERVICE_TURN_OFF])
async def test_mqtt_client_switch_device_error(
    hass: HomeAssistant, sim: Any, init_integration: MockConfigEntry, service: str
) -> None:
    """The device refuses the write: the state is written back, the error carries the reason."""
    before = hass.states.get(SWITCH).state
    assert before == STATE_ON
    sim.faults.status_503 = True
    with counted_writes() as written, pytest.raises(HomeAssistantError) as err:
        await switch(hass, service)
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "mqtt_switch_failed"
    assert err.value.translation_placeholders == {
        "reason": "The device is busy. Try again in a moment"
    }
    assert str(err.value) == (
        "The device's MQTT client could not be switched: The device is busy. Try again in a moment"
    )
    assert written == [before]
    assert hass.states.get(SWITCH).state == before
    assert sim.state.mqtt_settings["enable"] is True


@pytest.mark.parametrize("sim_options", [{"license": "free", "mqtt_url": "mqtt://127.0.0.1:9"}])
async def test_switch_unavailable_on_free(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A FREE device never runs its MQTT client: the switch is unavailable until Plus."""
    await setup_live(hass, sim)
    assert hass.states.get(SWITCH).state == STATE_UNAVAILABLE
    assert hass.states.get(LINK).state != STATE_UNAVAILABLE

    sim.set_license("plus")
    for _ in range(10):  # five minutes: one periodic read of the system information
        await tick(hass, freezer, 30)
        await shows(hass, await sim.emit_telegram())
    await wait_for(hass, lambda: hass.states.get(SWITCH).state == STATE_ON)


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
        assert mock_config_entry.runtime_data.device.data.mqtt_settings is None
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
