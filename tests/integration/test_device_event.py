"""The device_event entity: configuration changes and restarts found by the device read.

Changes this entry makes itself (actions, config entities, a reboot it asked for) are not
announced; a changed MQTT topic found by the read re-subscribes an MQTT entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNKNOWN
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt.const import CONF_TOPIC
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .conftest import advance
from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready, payload, sensor_state, setup_entry
from .services_helpers import call

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

EVENT = "event.whatwatt_go_d4e5f6_device_event"
FIVE_MINUTES = 300


def fired(hass: HomeAssistant) -> tuple[str | None, Any]:
    """Return the last event's type and its ``changed`` attribute (None: none fired)."""
    state = hass.states.get(EVENT)
    assert state is not None
    if state.state == STATE_UNKNOWN:
        return None, None
    return state.attributes["event_type"], state.attributes.get("changed")


async def device_read(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> None:
    """Let five minutes pass (telegrams keep coming): the periodic device read runs."""
    for _ in range(FIVE_MINUTES // 10):
        await sim.emit_telegram()
        await advance(hass, freezer, 10)


async def test_changes_made_elsewhere_are_announced(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Settings and MQTT settings changed on the device's web page: one event each, keys only."""
    assert fired(hass) == (None, None)
    sim.state.settings["system"]["name"] = "Garage"
    sim.state.settings["services"]["report_interval"] = 45
    await device_read(hass, sim, freezer)
    assert fired(hass) == ("settings_changed", ["services.report_interval", "system.name"])

    sim.state.mqtt_settings["password"] = "a-new-broker-secret"
    sim.state.mqtt_settings["publish"]["topic"] = "garage/meter"
    await device_read(hass, sim, freezer)
    event_type, changed = fired(hass)
    assert event_type == "mqtt_settings_changed"
    assert "publish.topic" in changed
    assert "a-new-broker-secret" not in str(hass.states.get(EVENT).as_dict())


async def test_own_writes_are_not_announced(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """What this entry wrote is kept as the device's answer: the next read finds no change."""
    target = {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id}
    await call(hass, "update_settings", {**target, "name": "Basement", "report_interval": 20})
    await call(
        hass, "configure_mqtt", {**target, "url": "mqtt://192.0.2.1", "topic": "basement/meter"}
    )
    await device_read(hass, sim, freezer)
    assert fired(hass) == (None, None)


@pytest.mark.parametrize("sim_options", [{"reboot_downtime": 0}])
async def test_restarts(
    hass: HomeAssistant, init_integration: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A restart found by the readings (new boot id) is announced; one asked for here is not."""
    freezer.tick(3600)
    await sim.reboot(downtime=0)
    await sim.emit_telegram()
    await advance(hass, freezer, 10)  # the report shows a new boot id: the device is read
    assert fired(hass) == ("rebooted", None)
    before = hass.states.get(EVENT).state

    freezer.tick(3600)
    await call(hass, "reboot", {ATTR_CONFIG_ENTRY_ID: init_integration.entry_id})
    await sim.wait_up()
    await sim.emit_telegram()
    await advance(hass, freezer, 10)
    await device_read(hass, sim, freezer)
    assert hass.states.get(EVENT).state == before  # no second event


async def test_topic_changed_on_the_device_resubscribes(
    hass: HomeAssistant, mqtt_ready: Any, plus_device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The device publishes elsewhere now (changed on its web page): the entry follows."""
    entry = await setup_entry(hass, mqtt_entry(host=plus_device.host))
    plus_device.state.mqtt_settings["publish"]["topic"] = "garage/meter"
    for _ in range(FIVE_MINUTES // 30):
        await plus_device.emit_telegram()
        async_fire_mqtt_message(hass, TOPIC, payload(plus_device))
        await advance(hass, freezer, 30)
    await hass.async_block_till_done()
    assert entry.data[CONF_TOPIC] == "garage/meter"
    assert fired(hass)[0] == "mqtt_settings_changed"
    await plus_device.emit_telegram()
    message = payload(plus_device)
    async_fire_mqtt_message(hass, "garage/meter", message)
    await hass.async_block_till_done()
    assert sensor_state(hass, "power_import") not in (None, "unavailable")
    assert await hass.config_entries.async_unload(entry.entry_id)
