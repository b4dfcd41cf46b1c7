"""configure_mqtt with a new topic, end to end: simulator → mosquitto → Home Assistant's MQTT.

The device publishes every report interval (1 s here); the entry must follow the new topic
with no gap in the readings longer than one lost message, and the old topic must be dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.whatwatt import coordinator as coordinator_module
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE
from custom_components.whatwatt.const import CONF_TOPIC
from custom_components.whatwatt.services import ATTR_CONFIG_ENTRY_ID

from .conftest import host_of
from .mqtt_helpers import TOPIC, mqtt_entry
from .services_helpers import call

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from homeassistant.core import HomeAssistant

    from custom_components.whatwatt.api.models import Report

NEW_TOPIC = "meters/basement/whatwatt"
REPORT_INTERVAL = 1.0  # seconds, the device's minimum
TELEGRAM_INTERVAL = 0.2
LIMIT = 15.0


@pytest.fixture
async def ha_mqtt(
    hass: HomeAssistant, mosquitto: Any, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's real MQTT integration connected to the private broker."""
    entry = MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1", "port": mosquitto.port})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await mqtt.async_wait_for_mqtt_client(hass)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


class Arrivals:
    """Monotonic times at which readings reached the coordinator, with a waiter."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.power: list[float | None] = []
        self.changed = asyncio.Event()

    def add(self, report: Report) -> None:
        self.times.append(time.monotonic())
        self.power.append(report.values.get("power_import"))
        self.changed.set()

    async def wait_count(self, count: int) -> None:
        async with asyncio.timeout(LIMIT):
            while len(self.times) < count:
                self.changed.clear()
                await self.changed.wait()


async def test_topic_change_resubscribes_without_gap(
    hass: HomeAssistant,
    mosquitto: Any,
    ha_mqtt: MockConfigEntry,
    simulator_factory: Callable[..., Awaitable[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only MQTT may deliver readings here: no REST fallback while a topic is silent.
    monkeypatch.setattr(coordinator_module, "FALLBACK_AFTER_INTERVALS", 1000)
    sim = await simulator_factory(
        auth="none",
        telegram_interval=TELEGRAM_INTERVAL,
        report_interval=int(REPORT_INTERVAL),
        mqtt_url=mosquitto.url,
        mqtt_topic=TOPIC,
        mqtt_template=INTEGRATION_TEMPLATE,
    )
    entry = mqtt_entry(host=host_of(sim))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    measurements = entry.runtime_data.measurements
    arrivals = Arrivals()
    pushes = measurements.pushes

    @callback
    def counting() -> None:
        nonlocal pushes
        if measurements.pushes != pushes:  # a reading pushed (not a REST read, not an error)
            pushes = measurements.pushes
            arrivals.add(measurements.data)

    entry.async_on_unload(measurements.async_add_listener(counting))

    await arrivals.wait_count(2)
    before = len(arrivals.times)
    sent_before = sim.publisher.published
    await call(hass, "configure_mqtt", {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "topic": NEW_TOPIC})
    assert sim.state.mqtt_settings["publish"]["topic"] == NEW_TOPIC
    assert entry.data[CONF_TOPIC] == NEW_TOPIC
    await arrivals.wait_count(before + 3)

    # At most one message may be missed while the device reconnects and the entry re-subscribes.
    # Counted in messages (sent by the device, read by the entry), not in seconds between
    # readings: those depend on how loaded the machine is.
    sent = sim.publisher.published - sent_before
    read = len(arrivals.times) - before
    assert sent - read <= 1, (sent, read)

    # The old topic is no longer listened to. With the device quiet, a message there is
    # ignored while one sent after it on the new topic (same client, same order) is read.
    sim.faults.meter_not_connected = True
    await hass.async_block_till_done()
    heard = len(arrivals.times)
    reading = json.loads(sim.publisher.last_payload)
    for topic, power in ((TOPIC, 111.0), (NEW_TOPIC, 222.0)):
        message = json.dumps({**reading, "pi": power})
        await mqtt.async_publish(hass, topic, message, qos=0, retain=False)
    await arrivals.wait_count(heard + 1)
    await hass.async_block_till_done()
    assert arrivals.power[heard:] == [222.0]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
