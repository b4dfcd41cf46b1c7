"""Config flow, reconfigure, ``mqtt`` branch: add the address to an MQTT-only entry, switch to MQTT.

Home Assistant's MQTT integration runs on a mocked client (``mqtt_ready``); messages are fired
with ``async_fire_mqtt_message``; the device behind ``host`` is the simulator on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt import mqtt_setup
from custom_components.whatwatt.const import (
    CONF_SCAN_INTERVAL,
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_MQTT,
    TRANSPORT_REST,
)
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .conftest import DEVICE_ID, host_of
from .helpers import deliver, suggested
from .mqtt_helpers import TOPIC, mqtt_entry, payload
from .services_helpers import call

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SimFactory = Callable[..., Awaitable[Any]]
DEVICE_SEED = 3  # the seed of the ``device`` fixture


async def open_mqtt_form(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Start reconfigure on ``entry`` and pick MQTT in its menu."""
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == f"reconfigure_{entry.data[CONF_TRANSPORT]}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_MQTT}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_topic"
    return result


async def test_mqtt_only_entry_adds_its_address(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """The way `mqtt_no_address` tells: reconfigure adds host and password; actions then work."""
    sim = await simulator_factory(auth="digest", password="s3cret", telegram_interval=0)
    await sim.emit_telegram()
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    target = {ATTR_CONFIG_ENTRY_ID: entry.entry_id}
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "get_settings", target, response=True)
    assert refused.value.translation_key == "mqtt_no_address"

    result = await open_mqtt_form(hass, entry)
    assert suggested(result) == {CONF_TOPIC: TOPIC}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: sim.host}
    )
    assert result["errors"] == {CONF_PASSWORD: "password_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: sim.host, CONF_PASSWORD: "s3cret"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    result = await deliver(hass, result["flow_id"], TOPIC, payload(sim))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: TOPIC,
        CONF_HOST: sim.host,
        CONF_PASSWORD: "s3cret",
    }
    assert entry.unique_id == DEVICE_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    result = await call(hass, "get_settings", target, response=True)
    assert result["settings"]["services"]["report_interval"] == 30
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_rest_entry_to_mqtt(hass: HomeAssistant, mqtt_ready: Any, device: Any) -> None:
    """FREE refuses MQTT (a menu: live or back); on Plus the entry moves to MQTT after a message."""
    device.set_license("free")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="whatwatt Go D4E5F6",
        unique_id=DEVICE_ID,
        data={CONF_HOST: host_of(device), CONF_TRANSPORT: TRANSPORT_REST},
        options={CONF_SCAN_INTERVAL: 20},
    )
    entry.add_to_hass(hass)
    result = await open_mqtt_form(hass, entry)
    # The device id is known: the integration's default topic is proposed.
    assert suggested(result) == {CONF_HOST: host_of(device), CONF_TOPIC: f"whatwatt/{DEVICE_ID}"}
    form = {CONF_TOPIC: "home/meter", CONF_HOST: host_of(device)}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["step_id"] == "license_free"
    assert result["menu_options"] == ["live", "reconfigure"]
    device.set_license("plus")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "reconfigure"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": TRANSPORT_MQTT}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    result = await deliver(hass, result["flow_id"], "home/meter", payload(device))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: "home/meter",
        CONF_HOST: host_of(device),
    }
    assert entry.options == {}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.measurements.update_interval is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_silent_topic_then_success(hass: HomeAssistant, mqtt_ready: Any, device: Any) -> None:
    """A new topic with no message in time shows `no_message`; the next try succeeds."""
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    result = await open_mqtt_form(hass, entry)
    with patch.object(mqtt_setup, "FIRST_MESSAGE_TIMEOUT", 0.05):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOPIC: "meters/new"}
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["errors"] == {"base": "no_message"}
    assert suggested(result)[CONF_TOPIC] == "meters/new"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: "meters/new"}
    )
    result = await deliver(hass, result["flow_id"], "meters/new", payload(device))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: "meters/new"}
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_other_device_refused(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """Another device, at the address or on the topic, is a form error (the form as typed).

    The entry stays as it was; the same flow then takes the right topic.
    """
    other = await simulator_factory(auth="none", telegram_interval=0, device_id="0011223344AA")
    await other.emit_telegram()
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    data = dict(entry.data)

    result = await open_mqtt_form(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: other.host}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_device"}
    assert suggested(result)[CONF_HOST] == other.host  # as typed, to be corrected
    hass.config_entries.flow.async_abort(result["flow_id"])

    result = await open_mqtt_form(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: "whatwatt/0011223344AA"}
    )
    result = await deliver(hass, result["flow_id"], "whatwatt/0011223344AA", payload(other))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_topic"
    assert result["errors"] == {"base": "wrong_device"}
    assert entry.data == data
