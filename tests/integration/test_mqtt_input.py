"""Bad MQTT input keeps the last tariff and meter status (not only the last measurements)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt.const import DOMAIN

from .mqtt_helpers import TOPIC, mqtt_entry, mqtt_ready, payload, sensor_state, setup_entry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

__all__ = ["mqtt_ready"]

SimFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def good(simulator_factory: SimFactory) -> dict[str, Any]:
    """A good message: what a simulated device (real clock) publishes after one telegram."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=5)
    await sim.emit_telegram()
    return json.loads(payload(sim))


@pytest.fixture
async def entry(hass: HomeAssistant, mqtt_ready: Any, good: dict[str, Any]) -> MockConfigEntry:
    """An MQTT-only entry set up (Home Assistant's MQTT on a mocked client); nothing received."""
    return await setup_entry(hass, mqtt_entry())


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
    entry: MockConfigEntry,
    good: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unusable ``tr``/``ms`` keep the last tariff and status; good keys of the message count."""
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


def _submeter_devices(hass: HomeAssistant) -> list[str]:
    registry = dr.async_get(hass)
    entries = hass.config_entries.async_entries(DOMAIN)
    return sorted(
        identifier
        for entry in entries
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        for domain, identifier in device.identifiers
        if domain == DOMAIN and "_volume_" in identifier
    )


async def test_stray_publisher_makes_no_submeters(
    hass: HomeAssistant, entry: MockConfigEntry, good: dict[str, Any]
) -> None:
    """Messages with ever new buses (anyone may publish to the topic) make no device.

    A bus becomes a sub-meter only once three consecutive messages carried it, and a device
    has sixteen at most, however many buses the messages name.
    """

    def slots(first: int, count: int = 4) -> list[dict[str, str]]:
        return [
            {"Bus": str(bus), "M_ID": f"G{bus:06d}", "DT": "", "Cum": "1.5"}
            for bus in range(first, first + count)
        ]

    for message in range(20):  # 80 buses, each in one message only
        await _send(hass, {**good, "Vol": slots(10 + 4 * message)})
    assert _submeter_devices(hass) == []
    assert not [key for key in entry.options if key.startswith("volume_")]
    for first in range(10, 90, 4):  # 80 buses, each in three consecutive messages
        for _ in range(3):
            await _send(hass, {**good, "Vol": slots(first)})
    assert len(_submeter_devices(hass)) == 16
    assert len([key for key in entry.options if key.startswith("volume_")]) == 16
