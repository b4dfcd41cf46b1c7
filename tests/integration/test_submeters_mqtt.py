"""Sub-meters over MQTT with a real broker: simulator → mosquitto → Home Assistant's MQTT.

The integration's template carries the meter interface and four sub-meter slots (``Vol``, in the
live stream's shape, every value quoted); an MQTT-only entry (no address, no REST) learns from
``mi`` that the meter is P1, so its gas meter is gas by default. The slots the device has no
sub-meter for stay verbatim and are no sub-meter.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.const import ATTR_DEVICE_CLASS, STATE_UNAVAILABLE
from homeassistant.util import dt as dt_util

from custom_components.whatwatt.api.submeters import GONE_AFTER
from custom_components.whatwatt.api.template import INTEGRATION_TEMPLATE, VOLUME_SLOTS

from .mqtt_helpers import mqtt_entry, setup_ha_mqtt
from .submeter_helpers import assert_gas_meter, counter, sensor, set_kinds, submeter_device

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from homeassistant.core import HomeAssistant

    SimFactory = Callable[..., Awaitable[Any]]


async def _publish_until(
    hass: HomeAssistant, sim: Any, condition: Callable[[], bool], limit: float = 30
) -> None:
    """Publish telegrams (bounded) until ``condition()`` holds (subscriptions settle late)."""
    async with asyncio.timeout(limit):
        while True:
            await sim.emit_telegram()
            for _ in range(10):
                await hass.async_block_till_done()
                if condition():
                    return
                await asyncio.sleep(0.05)


def _later(days: float) -> SimpleNamespace:
    """A stand-in for ``dt_util`` in the sub-meter module: its clock ``days`` ahead."""
    return SimpleNamespace(utcnow=lambda: dt_util.utcnow() + timedelta(days=days))


async def test_submeters_over_a_real_broker(
    hass: HomeAssistant, mock_hass_config: None, mosquitto: Any, simulator_factory: SimFactory
) -> None:
    """Devices, sensors, a change to water, a sub-meter appearing and going for good."""
    assert VOLUME_SLOTS == 4
    broker_entry = await setup_ha_mqtt(hass, mosquitto.port)
    sim = await simulator_factory(
        auth="none",
        telegram_interval=0,
        seed=13,
        profile="p1-gas",
        mqtt_url=mosquitto.url,
        mqtt_template=INTEGRATION_TEMPLATE,
        report_interval=1,
    )
    sim.state.settings["services"]["report_interval"] = 0  # publish with every telegram
    await sim.emit_telegram()
    await sim.publisher.wait_link(connected=True)
    entry = mqtt_entry()  # MQTT only: what the device is comes from the messages alone
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    await _publish_until(hass, sim, lambda: sensor(hass, "volume_1") is not None)
    _, state = assert_gas_meter(hass)
    assert sensor(hass, "volume_1_capture_time").state not in (None, STATE_UNAVAILABLE)
    assert entry.options == {"volume_1": "gas"}

    # Water, applied at once: same entity id.
    await set_kinds(hass, entry, volume_1="water")
    assert counter(hass, 1).entity_id == state.entity_id
    assert counter(hass, 1).attributes[ATTR_DEVICE_CLASS] == "water"
    await _publish_until(hass, sim, lambda: counter(hass, 1).state != STATE_UNAVAILABLE)

    # A second sub-meter appears ...
    sim.meter.add_submeter(2, "W77", cumulative=3.5)
    await _publish_until(hass, sim, lambda: sensor(hass, "volume_2") is not None)
    assert counter(hass, 2).state == "3.5"
    assert submeter_device(hass, 2).name == "Gas meter W77"
    # ... and goes: unavailable at once, removed once it has been missing for 30 days.
    sim.meter.remove_submeter(2)
    await _publish_until(hass, sim, lambda: counter(hass, 2).state == STATE_UNAVAILABLE)
    assert submeter_device(hass, 2) is not None
    days = GONE_AFTER / timedelta(days=1) + 1
    with patch("custom_components.whatwatt.submeter.dt_util", _later(days)):
        await _publish_until(hass, sim, lambda: submeter_device(hass, 2) is None)
    assert sensor(hass, "volume_2") is None
    assert entry.options == {"volume_1": "water", "demand_window": 15, "demand_peaks": 1}
    assert counter(hass, 1).state != STATE_UNAVAILABLE

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_unload(broker_entry.entry_id)
    await hass.async_block_till_done()
