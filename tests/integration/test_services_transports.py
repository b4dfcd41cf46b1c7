"""Each action on each transport: REST, live stream, MQTT with the device address, MQTT only.

Home Assistant's MQTT integration runs on a mocked client here (``mqtt_ready``); the broker
round trip of a topic change is in ``test_services_mqtt_broker.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_HOST
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt import device_control
from custom_components.whatwatt.const import (
    CONF_TOPIC,
    CONF_TRANSPORT,
    DOMAIN,
    TRANSPORT_LIVE,
    TRANSPORT_REST,
)
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .conftest import DEVICE_ID, host_of
from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready
from .services_helpers import call, real_time_sim, writes  # noqa: F401 - real_time_sim: fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["mqtt_ready"]

TRANSPORTS = ["rest", "live", "mqtt"]


def entry_for(transport: str, sim: Any) -> MockConfigEntry:
    if transport == "mqtt":
        return mqtt_entry(host=host_of(sim))
    kind = TRANSPORT_REST if transport == "rest" else TRANSPORT_LIVE
    return MockConfigEntry(
        domain=DOMAIN,
        title="whatwatt Go D4E5F6",
        unique_id=DEVICE_ID,
        data={CONF_HOST: host_of(sim), CONF_TRANSPORT: kind},
    )


@pytest.fixture
async def entry(hass: HomeAssistant, sim: Any, mqtt_ready: Any, transport: str) -> Any:
    """Set up an entry of ``transport`` for the simulator; unload it afterwards.

    Home Assistant's MQTT integration (mocked client) is there for every transport.
    """
    config_entry = entry_for(transport, sim)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_action(
    hass: HomeAssistant,
    sim: Any,
    entry: MockConfigEntry,
    transport: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every action does its REST work whatever the transport; the entities exist."""
    monkeypatch.setattr(device_control, "ACTION_POLL_INTERVAL", 0.02)
    target = {ATTR_CONFIG_ENTRY_ID: entry.entry_id}
    registry = er.async_get(hass)
    for entity_id in (
        "button.whatwatt_go_d4e5f6_restart",
        "number.whatwatt_go_d4e5f6_report_interval",
        "switch.whatwatt_go_d4e5f6_mqtt_client",
    ):
        assert registry.async_get(entity_id) is not None, entity_id

    result = await call(hass, "get_settings", target, response=True)
    assert result["settings"]["services"]["report_interval"] == 30

    await call(hass, "update_settings", {**target, "report_interval": 12})
    assert sim.state.settings["services"]["report_interval"] == 12
    assert hass.states.get("number.whatwatt_go_d4e5f6_report_interval").state == "12"

    await call(
        hass,
        "configure_mqtt",
        {**target, "url": "mqtt://192.0.2.1:9", "topic": "meters/basement"},
    )
    assert sim.state.mqtt_settings["publish"]["topic"] == "meters/basement"

    sim.state.actions = {
        "actions": [{"id": "ping", "requests": [{"http": {"url": f"{sim.url}/api/v1/system"}}]}]
    }
    result = await call(hass, "run_action", {**target, "action_id": "ping"}, response=True)
    assert result["success"] is True

    boots = sim.boots
    await call(hass, "reboot", target)
    await sim.wait_up()
    assert sim.boots == boots + 1
    assert not [w for w in writes(sim) if w[0] == "POST" and "settings" in w[1]]


@pytest.mark.parametrize("transport", ["mqtt"])
async def test_mqtt_follows_writes(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry, mqtt_ready: Any
) -> None:
    """MQTT with an address: a new topic is subscribed and stored, the interval followed."""
    runtime = entry.runtime_data
    assert entry.data[CONF_TOPIC] == TOPIC
    target = {ATTR_CONFIG_ENTRY_ID: entry.entry_id}
    await call(hass, "update_settings", {**target, "report_interval": 7})
    assert runtime.measurements.interval == 7.0
    mqtt_ready.async_subscribe.reset_mock()
    await call(hass, "configure_mqtt", {**target, "topic": "meters/basement", "enable": True})
    await hass.async_block_till_done()
    assert entry.data[CONF_TOPIC] == "meters/basement"
    assert runtime.source.topic == "meters/basement"
    subscribed = [c.args[0] for c in mqtt_ready.async_subscribe.call_args_list]
    assert "meters/basement" in subscribed


@pytest.mark.parametrize("transport", ["mqtt"])
# The device publishes to the entry's topic when the entry is set up (its client on).
@pytest.mark.parametrize("sim_options", [{"mqtt_url": "mqtt://127.0.0.1:9", "mqtt_topic": TOPIC}])
async def test_mqtt_disable_warns(
    hass: HomeAssistant,
    sim: Any,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Switching the device's client off warns once, when it happens."""
    await call(hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "enable": False})
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "receives no MQTT data" in warnings[0].getMessage()


async def test_mqtt_only_refuses(hass: HomeAssistant, mqtt_ready: Any) -> None:
    """Without the device address every action says how to add it; no config entities."""
    config_entry = mqtt_entry()
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    target = {ATTR_CONFIG_ENTRY_ID: config_entry.entry_id}
    for service, data in (
        ("reboot", {}),
        ("update_settings", {"report_interval": 10}),
        ("configure_mqtt", {"topic": "x/y"}),
        ("get_settings", {}),
        ("run_action", {"action_id": "ping"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, {**target, **data}, response=service == "get_settings")
        assert err.value.translation_key == "mqtt_no_address"
        assert err.value.translation_placeholders == {"title": "whatwatt Go D4E5F6"}
    entities = er.async_entries_for_config_entry(er.async_get(hass), config_entry.entry_id)
    assert not [e for e in entities if e.domain in ("button", "number", "switch")]
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
