"""The periodic device read of push transports (system information and configuration).

MQTT entries with an address and live entries re-read ``/api/v1/system``, the settings and the
MQTT settings every five minutes: licence, MQTT link, firmware and the config entities follow.
An MQTT entry with an address also loads while REST fails, and its transport state shows in the
diagnostics.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

from custom_components.whatwatt.const import DOMAIN
from custom_components.whatwatt.diagnostics import async_get_config_entry_diagnostics
from custom_components.whatwatt.issues import ISSUE_LICENSE_INSUFFICIENT, issue_id

from .conftest import advance, device_of
from .live_helpers import setup_live, shows, tick, wait_for
from .mqtt_helpers import TOPIC, mqtt_entry, payload, setup_entry

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from tests.plugins.simulator import SimulatorFactory

LINK = "sensor.whatwatt_go_d4e5f6_mqtt_link"
POWER = "sensor.whatwatt_go_d4e5f6_power_import"
INTERVAL = "number.whatwatt_go_d4e5f6_report_interval"
SWITCH = "switch.whatwatt_go_d4e5f6_mqtt_client"
FIVE_MINUTES = 300


@pytest.fixture
async def device(simulator_factory: SimulatorFactory) -> Any:
    """A simulated Plus device (no password) with one telegram decoded."""
    sim = await simulator_factory(telegram_interval=0, seed=11, report_interval=30)
    await sim.emit_telegram()
    return sim


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state else None


def _ours_warning(record: logging.LogRecord) -> bool:
    return record.levelno == logging.WARNING and record.name == "custom_components.whatwatt"


async def _publish_for(
    hass: HomeAssistant, device: Any, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    """Let the device publish every 30 s for ``seconds`` (MQTT keeps flowing, no fallback)."""
    for _ in range(seconds // 30):
        await device.emit_telegram()
        async_fire_mqtt_message(hass, TOPIC, payload(device))
        await advance(hass, freezer, 30)


async def test_mqtt_entry_follows_the_device(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Licence, MQTT link, report interval and MQTT client change on the device: all follow."""
    entry = await setup_entry(hass, mqtt_entry(host=device.host))
    measurements = entry.runtime_data.measurements
    assert _state(hass, LINK) == "disabled"
    assert _state(hass, INTERVAL) == "30"
    assert _state(hass, SWITCH) == "off"
    assert measurements.interval == 30.0
    firmware = device_of(hass, entry).sw_version
    assert firmware

    # Changed on the device (its web page, another client): nothing tells Home Assistant.
    device.set_license("free")
    device.state.settings["services"]["report_interval"] = 60
    device.state.mqtt_settings["enable"] = True
    requests = len(device.requests)
    await _publish_for(hass, device, freezer, FIVE_MINUTES - 30)
    assert len(device.requests) == requests  # MQTT flows: no REST traffic before the tick
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, issue_id(ISSUE_LICENSE_INSUFFICIENT, entry))
        is None
    )
    await _publish_for(hass, device, freezer, 30)

    paths = [r.path for r in device.requests[requests:]]
    assert paths == ["/api/v1/system", "/api/v1/settings", "/api/v1/mqtt/settings"]
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(ISSUE_LICENSE_INSUFFICIENT, entry))
    assert found is not None
    assert found.translation_key == "license_insufficient_mqtt"
    assert _state(hass, LINK) == "disconnected"  # enabled now; no broker configured
    assert _state(hass, INTERVAL) == "60"
    # FREE: the device never runs its MQTT client, so the switch is unavailable; the setting
    # it shows once Plus returns has been read all the same.
    assert _state(hass, SWITCH) == "unavailable"
    assert entry.runtime_data.device.data.mqtt_settings.enable is True
    # The MQTT timing follows the new interval: staleness and fallback wait 2 x 60 s now.
    assert measurements.interval == 60.0
    assert float(_state(hass, POWER) or "nan") > 0

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["source"] == {"topic": TOPIC, "subscribed": True}
    assert diagnostics["measurements"]["interval"] == 60.0
    assert diagnostics["measurements"]["fallback_active"] is False
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_mqtt_entry_loads_while_rest_fails(
    hass: HomeAssistant,
    mqtt_ready: Any,
    device: Any,
    freezer: FrozenDateTimeFactory,
    info_log: pytest.LogCaptureFixture,
) -> None:
    """REST refused at start: the entry loads on MQTT alone; REST fills in once it answers."""
    device.faults.refuse = True
    entry = await setup_entry(hass, mqtt_entry(host=device.host))
    assert entry.state is ConfigEntryState.LOADED
    warnings = [r for r in info_log.records if _ours_warning(r)]
    assert len(warnings) == 1, warnings
    assert "does not answer over REST" in warnings[0].getMessage()
    assert device_of(hass, entry).sw_version is None

    await device.emit_telegram()
    message = payload(device)
    async_fire_mqtt_message(hass, TOPIC, message)
    await hass.async_block_till_done()
    power = device.state.report["report"]["instantaneous_power"]["active"]["positive"]["total"]
    assert float(_state(hass, POWER) or "nan") == pytest.approx(power * 1000)
    assert _state(hass, INTERVAL) == "unavailable"  # config entities follow REST

    # Still refused at the first periodic read: no second warning, the MQTT data stays.
    await _publish_for(hass, device, freezer, FIVE_MINUTES)
    assert len([r for r in info_log.records if _ours_warning(r)]) == 1
    assert _state(hass, POWER) not in (None, "unavailable")

    device.faults.refuse = False
    await _publish_for(hass, device, freezer, FIVE_MINUTES)
    assert "recovered" in info_log.text
    assert device_of(hass, entry).sw_version == device.state.system_json()["device"]["firmware"]
    assert _state(hass, INTERVAL) == "30"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_device_read_password_refused(
    hass: HomeAssistant, mqtt_ready: Any, device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A password set on the device meanwhile: the periodic read starts re-authentication."""
    entry = await setup_entry(hass, mqtt_entry(host=device.host))
    device.state.settings["system"]["protection"] = True
    device.state.settings["system"]["password"] = "changed-on-the-device"
    await _publish_for(hass, device, freezer, FIVE_MINUTES)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_failed_start_stops_the_source(
    hass: HomeAssistant, mqtt_ready: Any, device: Any
) -> None:
    """Subscribing fails after the device read was armed: stopped again, set-up retried."""
    entry = mqtt_entry(host=device.host)
    entry.add_to_hass(hass)
    with patch(
        "custom_components.whatwatt.push_mqtt.mqtt.async_subscribe",
        side_effect=HomeAssistantError("MQTT is going down"),
    ):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.async_entity_ids(DOMAIN) == []
    assert hass.states.get(POWER) is None
    assert await hass.config_entries.async_unload(entry.entry_id)  # ends the retry timer


async def test_live_diagnostics(
    hass: HomeAssistant, device: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The live transport's state is in the diagnostics; its system read is the shared one."""
    entry = await setup_live(hass, device)
    # The simulator counts the client before the client has read the response headers: an event
    # shown on an entity proves the stream is open on both ends.
    await shows(hass, await device.emit_telegram())
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["source"] == {
        "connected": True,
        "drops": 0,
        "attempt": 0,
        "taken_over": False,
    }
    device.set_license("free")
    system_reads = len([r for r in device.requests if r.path == "/api/v1/system"])
    await tick(hass, freezer, FIVE_MINUTES)
    await wait_for(hass, lambda: entry.runtime_data.device.data.system.license == "FREE")
    assert len([r for r in device.requests if r.path == "/api/v1/system"]) > system_reads
    assert await hass.config_entries.async_unload(entry.entry_id)
