"""Config flow, ``mqtt`` branch.

Topic form, REST probe, device provisioning (broker address proposed, the device's own broker
user from the person), first message. There is no MQTT discovery (zeroconf is the discovery path).

Home Assistant's MQTT integration runs on a mocked client (``mqtt_mock``); messages are fired
with ``async_fire_mqtt_message``; the device behind ``host`` is the simulator on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import copy
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt import mqtt_setup
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.const import CONF_TOPIC, CONF_TRANSPORT, DOMAIN, TRANSPORT_MQTT

from .helpers import deliver, free_licence_menu, suggested
from .mqtt_helpers import DEVICE_ID, TEMPLATES, TOPIC, payload

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SimFactory = Callable[..., Awaitable[Any]]
DEVICE_SEED = 3  # the seed of the ``device`` fixture


async def _open_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_topic"
    return result


def _ha_mqtt_entry(broker: str, password: str) -> pytest.MarkDecorator:
    """Home Assistant's MQTT entry for one test: ``broker``, user ``ha`` with ``password``."""
    data = {"broker": broker, "port": 1883, "username": "ha", "password": password}
    return pytest.mark.parametrize("mqtt_config_entry_data", [data])


async def _created(hass: HomeAssistant, flow_id: str, topic: str, device: Any) -> dict[str, Any]:
    """Deliver a message of ``device`` on ``topic``: the flow creates the entry."""
    result = await deliver(hass, flow_id, topic, payload(device))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return result


async def _ask_broker(hass: HomeAssistant, device: Any, topic: str) -> dict[str, Any]:
    """Open the form and ask to configure ``device`` for ``topic``: the broker step follows."""
    result = await _open_form(hass)
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: topic, CONF_HOST: device.host, "configure_device": True}
    )


@pytest.mark.parametrize("template", ["own", "vendor"])
async def test_mqtt_only(hass: HomeAssistant, mqtt_ready: Any, device: Any, template: str) -> None:
    """Only a topic: the first message (either template) tells the device id."""
    result = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOPIC: TOPIC})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "mqtt_wait"
    # Junk and another topic do not end the wait.
    async_fire_mqtt_message(hass, TOPIC, b"not json")
    async_fire_mqtt_message(hass, "whatwatt/OTHER", payload(device, TEMPLATES[template]))
    result = await deliver(hass, result["flow_id"], TOPIC, payload(device, TEMPLATES[template]))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "whatwatt Go D4E5F6"
    assert result["data"] == {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_TOPIC: TOPIC}
    assert result["result"].unique_id == DEVICE_ID
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("topic", "error"),
    [
        ("whatwatt/+", "topic_wildcard"),
        ("whatwatt/#", "topic_wildcard"),
        ("$SYS/whatwatt", "topic_reserved"),
        ("t" * 128, "topic_too_long"),
        ("ü" * 64, "topic_too_long"),
        ("   ", "invalid_topic"),
    ],
)
async def test_topic_errors(hass: HomeAssistant, mqtt_ready: Any, topic: str, error: str) -> None:
    """Topics the device cannot publish to are refused on the field; a good one then works."""
    result = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOPIC: topic})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOPIC: error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: "t" * 127}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_no_message_in_time(hass: HomeAssistant, mqtt_ready: Any, device: Any) -> None:
    """A silent topic ends in a translated form error; the next attempt succeeds."""
    result = await _open_form(hass)
    with patch.object(mqtt_setup, "FIRST_MESSAGE_TIMEOUT", 0.05):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TOPIC: TOPIC}
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_topic"
    assert result["errors"] == {"base": "no_message"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_TOPIC: TOPIC})
    result = await _created(hass, result["flow_id"], TOPIC, device)
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_with_host_no_provisioning(hass: HomeAssistant, mqtt_ready: Any, device: Any) -> None:
    """With an address the device id comes over REST; a message of it confirms the topic."""
    result = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: device.host}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    before = copy.deepcopy(device.state.mqtt_settings)
    result = await _created(hass, result["flow_id"], TOPIC, device)
    assert result["data"] == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: TOPIC,
        CONF_HOST: device.host,
    }
    assert device.state.mqtt_settings == before  # nothing written
    assert not [r for r in device.requests if r.method != "GET"]
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_provisioning_writes_only_mqtt_keys(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """ "Configure the device for me" PUTs broker, credentials, client id, topic, template only."""
    settings_before = copy.deepcopy(device.state.settings)
    mqtt_before = copy.deepcopy(device.state.mqtt_settings)
    result = await _ask_broker(hass, device, "home/meter")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_broker"
    # Home Assistant's broker address is proposed; nothing is written before it is confirmed.
    assert suggested(result) == {"url": "mqtt://mock-broker:1883"}
    assert not [r for r in device.requests if r.method != "GET"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "mqtt://mock-broker:1883"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    puts = [r for r in device.requests if r.method != "GET"]
    assert [(r.method, r.path) for r in puts] == [("PUT", "/api/v1/mqtt/settings")]
    after = device.state.mqtt_settings
    changed = {key for key in after if after[key] != mqtt_before.get(key)}
    assert changed == {"enable", "url", "client_id", "publish"}  # username/password stay ""
    assert after["enable"] is True
    assert after["url"] == "mqtt://mock-broker:1883"
    assert after["username"] == after["password"] == ""
    assert after["client_id"].startswith("whatwatt-d4e5f6-")
    assert after["publish"] == {"topic": "home/meter", "template": INTEGRATION_TEMPLATE}
    assert device.state.settings == settings_before
    result = await _created(hass, result["flow_id"], "home/meter", device)
    assert result["data"][CONF_TOPIC] == "home/meter"
    await hass.config_entries.async_unload(result["result"].entry_id)


@_ha_mqtt_entry("core-mosquitto", "pw")
async def test_provisioning_asks_for_broker_address(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """An add-on broker name cannot work from the device: the flow asks for its address."""
    result = await _ask_broker(hass, device, TOPIC)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mqtt_broker"
    assert result["description_placeholders"] == {"broker": "core-mosquitto"}
    assert suggested(result) == {}  # core-mosquitto means nothing to the device
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "http://192.168.1.10"}
    )
    assert result["errors"] == {"url": "invalid_broker_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "192.168.1.10"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    mqtt = device.state.mqtt_settings
    assert mqtt["url"] == "mqtt://192.168.1.10"
    # Home Assistant's broker login (the add-on's service user) is not copied to the device.
    assert (mqtt["username"], mqtt["password"]) == ("", "")
    result = await _created(hass, result["flow_id"], TOPIC, device)
    await hass.config_entries.async_unload(result["result"].entry_id)


@_ha_mqtt_entry("192.0.2.10", "ha-secret")
async def test_provisioning_device_broker_user(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """Only the broker's address is proposed; the device's broker user is the person's.

    Home Assistant's MQTT entry has a user and password: neither is proposed nor written.
    Over-long values and an unreachable device are form errors on the step, then it works.
    """
    result = await _ask_broker(hass, device, TOPIC)
    assert result["step_id"] == "mqtt_broker"
    assert result["description_placeholders"] == {"broker": "192.0.2.10"}
    assert suggested(result) == {"url": "mqtt://192.0.2.10:1883"}
    assert {str(key) for key in result["data_schema"].schema} == {"url", "username", "password"}
    url = "mqtt://192.0.2.10:1883"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "username": "u" * 128, "password": "p" * 128}
    )
    assert result["errors"] == {"username": "too_long", "password": "too_long"}
    assert "password" not in suggested(result)
    device.faults.refuse = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "username": "meter", "password": "meter pw"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    device.faults.refuse = False
    await device.wait_up()
    assert not [r for r in device.requests if r.method != "GET"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "username": " meter ", "password": "meter pw"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    mqtt = device.state.mqtt_settings
    assert (mqtt["url"], mqtt["username"], mqtt["password"]) == (url, "meter", "meter pw")
    assert "ha-secret" not in repr(device.state.mqtt_settings)
    result = await _created(hass, result["flow_id"], TOPIC, device)
    assert result["data"] == {
        CONF_TRANSPORT: TRANSPORT_MQTT,
        CONF_TOPIC: TOPIC,
        CONF_HOST: device.host,
    }
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_configure_needs_host(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """Configuring the device needs its address."""
    result = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, "configure_device": True}
    )
    assert result["errors"] == {CONF_HOST: "host_required_to_configure"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: "http://x/y"}
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}


async def test_free_licence_points_to_live(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """A FREE device cannot publish over MQTT: a menu leads to live (the address kept) or back."""
    device.set_license("free")
    result = await _open_form(hass)
    user_input = {CONF_TOPIC: TOPIC, CONF_HOST: device.host}
    result = await free_licence_menu(hass, result, user_input, "user")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "live"}
    )
    assert result["step_id"] == "live"
    key = next(iter(result["data_schema"].schema))
    assert key.description == {"suggested_value": device.host}


async def test_protected_device(
    hass: HomeAssistant, mqtt_ready: Any, simulator_factory: SimFactory
) -> None:
    """A protected device needs its password on the same form; a wrong one is refused."""
    sim = await simulator_factory(auth="digest", password="s3cret", telegram_interval=0)
    await sim.emit_telegram()
    result = await _open_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: sim.host}
    )
    assert result["errors"] == {CONF_PASSWORD: "password_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: sim.host, CONF_PASSWORD: "nope"}
    )
    assert result["errors"] == {CONF_PASSWORD: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC: TOPIC, CONF_HOST: sim.host, CONF_PASSWORD: "s3cret"}
    )
    result = await _created(hass, result["flow_id"], TOPIC, sim)
    assert result["data"][CONF_PASSWORD] == "s3cret"
    await hass.config_entries.async_unload(result["result"].entry_id)
