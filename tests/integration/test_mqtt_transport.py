"""MQTT transport on a mocked MQTT client.

Push, device filter, staleness, bad input, REST fallback, device writes, missing MQTT.
"""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
)

from custom_components.whatwatt.api.models import MqttSettings, Settings
from custom_components.whatwatt.api.parse_mqtt import parse_mqtt_payload
from custom_components.whatwatt.const import CONF_TOPIC, DOMAIN
from custom_components.whatwatt.issues import ISSUE_MQTT_MISSING, issue_id

from .conftest import advance, device_of
from .live_helpers import tick
from .mqtt_helpers import TEMPLATES, TOPIC, mqtt_entry, payload, sensor_state, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from tests.plugins.simulator import SimulatorFactory


@pytest.fixture
async def device(simulator_factory: SimulatorFactory) -> Any:
    """A simulated Plus device with one telegram decoded."""
    sim = await simulator_factory(auth="none", telegram_interval=0, seed=5, report_interval=30)
    await sim.emit_telegram()
    return sim


def _watts(message: bytes) -> float:
    return round(parse_mqtt_payload(message).values["power_import"] * 1000, 6)


async def _meter_goes_on(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, device: Any, seconds: float
) -> None:
    """Let time pass while the meter goes on (a new telegram), then run the refresh it triggers."""
    freezer.tick(timedelta(seconds=seconds))
    await device.emit_telegram()
    await advance(hass, freezer, 0)


async def _send(hass: HomeAssistant, message: bytes | str, topic: str = TOPIC) -> None:
    async_fire_mqtt_message(hass, topic, message)
    await hass.async_block_till_done()


@pytest.mark.parametrize("template", ["own", "vendor"])
async def test_mqtt_only_push(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, template: str
) -> None:
    """No address: entities appear with the first message and follow each one."""
    entry = await setup_entry(hass, mqtt_entry())
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.client is None
    assert sensor_state(hass, "power_import") is None
    first = payload(device, TEMPLATES[template])
    await _send(hass, first)
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(first))
    assert float(sensor_state(hass, "energy_import") or "nan") == pytest.approx(
        parse_mqtt_payload(first).values["energy_import"]
    )
    # Only the integration's template carries the meter status; without it, no entity.
    assert sensor_state(hass, "meter_status") == ("ok" if template == "own" else None)
    device_entry = device_of(hass, entry)
    assert (device_entry.model, device_entry.hw_version) == ("whatwatt Go", None)
    # Another device on the same topic is ignored.
    other = json.loads(first)
    other["id" if template == "own" else "sys_id"] = "FFFFFFFFFFFF"
    other["pi" if template == "own" else "power_in"] = 99
    await _send(hass, json.dumps(other))
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(first))
    await device.emit_telegram()
    second = payload(device, TEMPLATES[template])
    await _send(hass, second)
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(second))
    # Unloading unsubscribes: later messages change nothing.
    measurements = entry.runtime_data.measurements
    assert await hass.config_entries.async_unload(entry.entry_id)
    await device.emit_telegram()
    await _send(hass, payload(device, TEMPLATES[template]))
    assert measurements.data.raw == json.loads(second)


async def test_staleness(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Three silent report intervals make measurements unavailable; a message brings them back."""
    entry = await setup_entry(hass, mqtt_entry())
    await _send(hass, payload(device))
    assert sensor_state(hass, "power_import") != STATE_UNAVAILABLE
    await tick(hass, freezer, 89)
    assert sensor_state(hass, "power_import") != STATE_UNAVAILABLE
    await tick(hass, freezer, 2)
    assert sensor_state(hass, "power_import") == STATE_UNAVAILABLE
    await device.emit_telegram()
    await _send(hass, payload(device))
    assert sensor_state(hass, "power_import") != STATE_UNAVAILABLE
    await hass.config_entries.async_unload(entry.entry_id)


def _ours_warning(record: logging.LogRecord) -> bool:
    return record.levelno == logging.WARNING and record.name.startswith(
        "custom_components.whatwatt"
    )


BAD_INPUT = {
    "not_json": b'{"wwha":1,"id":"A1B2C3D4E5F6","pi":',
    "empty": b"",
    "too_large": b'{"x":"' + b"a" * (1024 * 1024) + b'"}',
    "not_utf8": b'{"wwha":1,"id":"A1B2C3D4E5F6","pi":1.5,"x":"\xff\xfe"}',
}


async def test_bad_input(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad input: no exception, one warning per kind until a good message, good keys applied."""
    entry = await setup_entry(hass, mqtt_entry())
    good = json.loads(payload(device))
    await _send(hass, json.dumps(good))
    power, energy = sensor_state(hass, "power_import"), sensor_state(hass, "energy_import")
    caplog.set_level(logging.WARNING)
    caplog.clear()
    for _ in range(3):
        for message in BAD_INPUT.values():
            await _send(hass, message)
    after = (sensor_state(hass, "power_import"), sensor_state(hass, "energy_import"))
    assert after == (power, energy)
    # One message with a good value and bad ones: the good one counts, the bad keep theirs.
    # (Energy totals move on plausibly: a jump of thousands of kWh is guarded as a glitch.)
    mixed = {**good, "ei": good["ei"] + 1.5, "pi": "${1_7_0}", "po": "null", "u1": [1], "i1": "abc"}
    for _ in range(3):
        await _send(hass, json.dumps(mixed))
    assert float(sensor_state(hass, "energy_import") or "nan") == pytest.approx(good["ei"] + 1.5)
    assert sensor_state(hass, "power_import") == power
    # Bare placeholders as the device renders unknown numeric variables.
    raw = json.dumps({**good, "ei": good["ei"] + 2.0}).replace(
        '"pi": ' + json.dumps(good["pi"]), '"pi": ${no_such}'
    )
    assert "${no_such}" in raw
    await _send(hass, raw)
    assert float(sensor_state(hass, "energy_import") or "nan") == pytest.approx(good["ei"] + 2.0)
    assert sensor_state(hass, "power_import") == power
    warnings = [r.getMessage() for r in caplog.records if _ours_warning(r)]
    assert len(warnings) == 6, warnings  # empty, too large, not UTF-8, not JSON, ${...}, types
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # A good message resets the warnings: the next bad input is reported again.
    caplog.clear()
    await _send(hass, json.dumps({**good, "ei": good["ei"] + 2.0}))  # energy does not go back
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(good["pi"] * 1000)
    await _send(hass, BAD_INPUT["not_json"])
    await _send(hass, BAD_INPUT["not_json"])
    assert len([r for r in caplog.records if _ours_warning(r)]) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_rest_baseline_and_fallback(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """With an address: REST values at start, REST polling while MQTT is silent, push again."""
    entry = await setup_entry(hass, mqtt_entry(host=device.host))
    measurements = entry.runtime_data.measurements
    rest_watts = device.state.report["report"]["instantaneous_power"]["active"]["positive"]
    shown = float(sensor_state(hass, "power_import") or "nan")
    assert shown == pytest.approx(rest_watts["total"] * 1000)
    assert measurements.interval == 30.0
    await device.emit_telegram()
    message = payload(device)
    await _send(hass, message)
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(message))
    # Silent for two intervals: the report is read over REST (the meter itself goes on).
    await _meter_goes_on(hass, freezer, device, 61)
    assert measurements.fallback_active
    expected = device.state.report["report"]["instantaneous_power"]["active"]["positive"]
    shown = float(sensor_state(hass, "power_import") or "nan")
    assert shown == pytest.approx(expected["total"] * 1000)
    reports = [r for r in device.requests if r.path == "/api/v1/report"]
    # Still silent: polled again, entities stay available far beyond three intervals.
    for _ in range(4):
        await _meter_goes_on(hass, freezer, device, 30)
    assert len([r for r in device.requests if r.path == "/api/v1/report"]) == len(reports) + 4
    assert sensor_state(hass, "power_import") != STATE_UNAVAILABLE
    # Messages flow again: polling stops.
    await device.emit_telegram()
    message = payload(device)
    await _send(hass, message)
    assert not measurements.fallback_active
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(message))
    count = len(device.requests)
    await advance(hass, freezer, 45)
    assert len(device.requests) == count
    await hass.config_entries.async_unload(entry.entry_id)


async def test_device_writes(
    hass: HomeAssistant,
    mqtt_ready: Any,
    device: Any,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new topic re-subscribes (stored in the entry); a new interval moves the timeouts.

    The configuration as a device read or a write hands it to the device coordinator.
    """
    entry = await setup_entry(hass, mqtt_entry())
    runtime = entry.runtime_data
    await _send(hass, payload(device))
    runtime.device.async_keep(mqtt_settings=MqttSettings(enable=True, topic="home/new"))
    await hass.async_block_till_done()
    assert entry.data[CONF_TOPIC] == "home/new"
    await device.emit_telegram()
    message = payload(device)
    await _send(hass, message, "home/new")
    await device.emit_telegram()
    await _send(hass, payload(device), TOPIC)  # the old topic is no longer followed
    assert float(sensor_state(hass, "power_import") or "nan") == pytest.approx(_watts(message))
    # A wildcard topic cannot be followed; a disabled client is reported once.
    caplog.set_level(logging.WARNING)
    runtime.device.async_keep(mqtt_settings=MqttSettings(enable=False, topic="home/+"))
    await hass.async_block_till_done()
    assert entry.data[CONF_TOPIC] == "home/new"
    assert "disabled" in caplog.text
    # A longer report interval: staleness follows (3 x 120 s instead of 3 x 30 s).
    runtime.device.async_keep(settings=Settings(report_interval=120))
    assert runtime.measurements.interval == 120.0
    await tick(hass, freezer, 300)
    assert sensor_state(hass, "power_import") != STATE_UNAVAILABLE
    await tick(hass, freezer, 61)
    assert sensor_state(hass, "power_import") == STATE_UNAVAILABLE
    await hass.config_entries.async_unload(entry.entry_id)


async def test_without_mqtt_integration(hass: HomeAssistant) -> None:
    """Without Home Assistant's MQTT integration the entry waits and a repair issue says why.

    That the issue clears once MQTT is set up: ``test_mqtt_broker.py`` (a real broker).
    """
    entry = mqtt_entry()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(ISSUE_MQTT_MISSING, entry))
    assert issue is not None
    assert issue.translation_key == "mqtt_integration_missing"
    await hass.config_entries.async_unload(entry.entry_id)
