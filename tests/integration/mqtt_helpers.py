"""Helpers of the MQTT tests: payloads rendered by the simulator, a clean MQTT mock, and Home
Assistant's real MQTT integration on a private broker."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.const import CONF_TOPIC, CONF_TRANSPORT, DOMAIN, TRANSPORT_MQTT
from simulator.state import DEFAULT_MQTT_TEMPLATE
from simulator.template import render
from simulator.variables import NUMERIC, build_variables

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from homeassistant.core import HomeAssistant

DEVICE_ID = "A1B2C3D4E5F6"
TOPIC = f"whatwatt/{DEVICE_ID}"
TEMPLATES = {"own": INTEGRATION_TEMPLATE, "vendor": DEFAULT_MQTT_TEMPLATE}


def sensor_state(hass: HomeAssistant, key: str) -> str | None:
    """Return the state of the device's sensor with this contract key (None when absent)."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{DEVICE_ID}_{key}")
    state = hass.states.get(entity_id) if entity_id else None
    return state.state if state else None


def payload(sim: Any, template: str = INTEGRATION_TEMPLATE) -> bytes:
    """Render ``template`` the way the simulated device would publish it now."""
    return render(template, build_variables(sim.state), NUMERIC).encode()


def mqtt_entry(topic: str = TOPIC, host: str | None = None, **extra: Any) -> MockConfigEntry:
    """Return a whatwatt MQTT entry (MQTT-only without ``host``)."""
    data: dict[str, Any] = {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: topic}
    if host:
        data[CONF_HOST] = host
    if extra.get("password"):
        data[CONF_PASSWORD] = extra["password"]
    return MockConfigEntry(
        domain=DOMAIN, title="whatwatt Go D4E5F6", unique_id=DEVICE_ID, data=data
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add an entry and set it up (it must load)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def mqtt_ready(hass: HomeAssistant, mqtt_mock: Any) -> AsyncGenerator[Any]:
    """Home Assistant's MQTT integration on a mocked client; unloaded at the end (no timers)."""
    yield mqtt_mock
    await hass.async_block_till_done()
    # The mocked client never disconnects, so end its housekeeping timers here.
    client = getattr(mqtt_mock, "_mock_wraps", None) or mqtt_mock
    await client._subscribe_debouncer.async_cleanup()
    await client._unsubscribe_debouncer.async_cleanup()
    if client._misc_timer is not None:
        client._misc_timer.cancel()
        client._misc_timer = None


async def wait_mqtt_connected(hass: HomeAssistant, limit: float = 20.0) -> None:
    """Wait (bounded) until Home Assistant's MQTT client is connected to its broker."""
    connected = asyncio.Event()

    @callback
    def _status(state: bool) -> None:
        if state:
            connected.set()

    unsubscribe = mqtt.async_subscribe_connection_status(hass, _status)
    try:
        if not mqtt.is_connected(hass):
            async with asyncio.timeout(limit):
                await connected.wait()
    finally:
        unsubscribe()


async def setup_ha_mqtt(hass: HomeAssistant, port: int) -> MockConfigEntry:
    """Set up Home Assistant's real MQTT integration on a private broker; wait until connected.

    No birth message: its publish would race a broker restart.
    """
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": "127.0.0.1", "port": port},
        options={mqtt.CONF_BIRTH_MESSAGE: {}},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_mqtt_connected(hass)
    return entry
