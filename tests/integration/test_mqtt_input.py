"""Bad MQTT input keeps the last tariff and meter status (not only the last measurements)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready, payload, sensor_state

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["mqtt_ready"]

SimFactory = Callable[..., Awaitable[Any]]


async def _send(hass: HomeAssistant, message: dict[str, Any]) -> None:
    async_fire_mqtt_message(hass, TOPIC, json.dumps(message))
    await hass.async_block_till_done()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.whatwatt")
        and record.levelno == logging.WARNING
    ]


@pytest.mark.usefixtures("enable_all_entities")
async def test_rejected_tariff_and_status_keep_last(
    hass: HomeAssistant,
    mqtt_ready: Any,
    simulator_factory: SimFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unusable ``tr``/``ms`` keep the last tariff and status; good keys of the message count."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=5)
    await sim.emit_telegram()
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    good = json.loads(payload(sim))
    assert good["tr"] in (1, 2)
    await _send(hass, good)
    tariff, status = sensor_state(hass, "tariff"), sensor_state(hass, "meter_status")
    assert (tariff, status) == (f"t{good['tr']}", good["ms"].lower())
    caplog.set_level(logging.WARNING)
    # The vendor's "no value" marker: kept, no warning.
    await _send(hass, {**good, "ei": 5121.5, "tr": "null", "ms": "null"})
    assert (sensor_state(hass, "tariff"), sensor_state(hass, "meter_status")) == (tariff, status)
    assert sensor_state(hass, "energy_import") == "5121.5"
    assert _warnings(caplog) == []
    # Values of the wrong kind: kept, one warning naming them.
    for _ in range(2):
        await _send(hass, {**good, "ei": 5122.5, "tr": 7, "ms": 3})
    assert (sensor_state(hass, "tariff"), sensor_state(hass, "meter_status")) == (tariff, status)
    assert sensor_state(hass, "energy_import") == "5122.5"
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "tr" in warnings[0]
    assert "ms" in warnings[0]
    # A good message with the other tariff takes it.
    await _send(hass, {**good, "ei": 5122.5, "tr": 3 - good["tr"]})
    assert sensor_state(hass, "tariff") == f"t{3 - good['tr']}"
    assert await hass.config_entries.async_unload(entry.entry_id)
